with

source as (

    select * from {{ source('raw', 'quarantine') }}

),

renamed as (

    select
        quarantine_id,
        source,
        file_path,
        file_sha256,
        line_no,
        reason,
        record,
        quarantined_at

    from source

)

select * from renamed
