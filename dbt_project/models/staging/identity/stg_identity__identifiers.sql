with

source as (

    select * from {{ source('identity', 'identity_map') }}

),

renamed as (

    select
        identifier_type,
        identifier_value,
        profile_id,
        shared_device,
        blocked,
        first_seen_at,
        last_seen_at

    from source

)

select * from renamed
