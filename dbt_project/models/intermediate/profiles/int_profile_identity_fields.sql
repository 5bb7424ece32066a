-- A table, one row per profile that has at least one identifier (the profiles of
-- audience_profile_base): the latest seen email and phone, the external ids (per identifier
-- type, and per platform for social handles, the latest seen value) and when the profile's
-- identifiers were first and last seen.
{{ config(materialized='table') }}

with

identifiers as (
    select
        profile_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        last_seen_at,
        case when identifier_type = 'social_handle' then split_part(identifier_value, ':', 1) end as platform
    from {{ ref('int_identifiers_resolved') }}
    where profile_id is not null
),

latest_identifiers as (
    {{ first_row_per_group(
        'profile_id, identifier_type, platform', 'last_seen_at desc nulls last, identifier_value',
        'profile_id, identifier_type, platform, identifier_value', 'identifiers'
    ) }}
),

{%- set latest_of = "max(identifier_value) filter (where identifier_type = '%s')" %}

identity as (
    select
        profile_id,
        {{ latest_of | format('email') }} as email,
        {{ latest_of | format('phone') }} as phone,
        {{ json_object({
            'shopify_id': latest_of | format('shopify_customer_id'),
            'email_provider_id': latest_of | format('email_provider_id'),
            'user_id': latest_of | format('user_id'),
            'stripe_id': latest_of | format('stripe_customer_id'),
            'social': json_object_aggregate('platform', 'substr(identifier_value, length(platform) + 2)')
                ~ " filter (where identifier_type = 'social_handle')",
        }, strip_nulls=true) }} as external_ids
    from latest_identifiers
    group by profile_id
),

identifier_span as (
    select
        profile_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from identifiers
    group by profile_id
),

profiles as (
    select
        identifier_span.profile_id,
        identity.email,
        identity.phone,
        identity.external_ids,
        identifier_span.first_seen_at,
        identifier_span.last_seen_at
    from identifier_span
    left join identity on identity.profile_id = identifier_span.profile_id
)

select * from profiles
