with

source as (

    select * from {{ source('segments', 'segment_membership') }}

),

renamed as (

    select
        profile_id,
        segment_id,
        score as membership_score,
        source as membership_source,
        joined_at,
        expires_at

    from source

)

select * from renamed
