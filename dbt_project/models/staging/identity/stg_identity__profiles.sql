with

source as (

    select * from {{ source('identity', 'profiles') }}

),

renamed as (

    select
        profile_id,
        created_at,
        status as profile_status,
        merged_into as merged_into_profile_id,
        retired_at,
        current_profile_id

    from source

)

select * from renamed
