with

source as (

    select * from {{ source('raw', 'loaded_files') }}

),

renamed as (

    select
        file_sha256,
        source,
        file_path,
        file_bytes,
        lines as line_count,
        inserted as inserted_count,
        duplicates as duplicate_count,
        quarantined as quarantined_count,
        loaded_at

    from source

)

select * from renamed
