{#- identity.profiles is written by the same asset as identity.identity_map; going through that
    source keeps the dependency (see _identity__sources.yml). -#}
{%- set registry = source('identity', 'identity_map').incorporate(path={'identifier': 'profiles'}) %}

with

source as (

    select * from {{ registry }}

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
