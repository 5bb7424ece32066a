with

source as (

    select * from {{ source('segments', 'micro_segments') }}

),

renamed as (

    select
        id as segment_id,
        name as segment_name,
        slug as segment_slug,
        segment_type,
        member_count,
        status as segment_status,
        last_calculated_at

    from source

)

select * from renamed
