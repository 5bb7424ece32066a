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
        already_quarantined as already_quarantined_count,
        suppressed as suppressed_count,
        do_not_track as do_not_track_count,
        status as load_status,
        reason as rejection_reason,
        attempts,
        loaded_at

    from source

)

select * from renamed
