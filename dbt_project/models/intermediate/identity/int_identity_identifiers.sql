{{ config(materialized='table') }}

-- Every identifier any record carries, linked or not, with when it was first and last seen: the
-- identity graph's nodes. An anonymous visitor who never identifies appears here (and becomes an
-- anonymous profile) although no edge names them. Values are normalised exactly as in
-- int_identity_edges (an alias's previousId typed the same way); a phone carries the country its
-- record gives (region) and is normalised to E.164 by identity resolution.

with

web_activity as (
    select anonymous_id, user_id, device_id, occurred_at from {{ ref('stg_segment__tracks') }}
    union all
    select anonymous_id, user_id, device_id, occurred_at from {{ ref('stg_segment__pages') }}
    union all
    select anonymous_id, user_id, device_id, occurred_at from {{ ref('stg_segment__screens') }}
    union all
    select anonymous_id, user_id, device_id, occurred_at from {{ ref('stg_segment__identifies') }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }}
),

alias_previous_ids as (
    select distinct previous_id from aliases where previous_id is not null
),

previous_user_ids as (
    select web_activity.user_id as previous_id
    from web_activity
    inner join alias_previous_ids on web_activity.user_id = alias_previous_ids.previous_id
    union
    select aliases.user_id
    from aliases
    inner join alias_previous_ids on aliases.user_id = alias_previous_ids.previous_id
),

web_ids as (
    -- one pass over the web activity: its three identifier columns side by side
    select
        anonymous_id,
        user_id,
        device_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as observations
    from web_activity
    group by 1, 2, 3
),

occurrences as (
    select 'anonymous_id' as identifier_type, anonymous_id as identifier_value, {{ cast_as('null', 'text') }} as region,
           first_seen_at, last_seen_at, observations
    from web_ids
    union all
    select 'user_id', user_id, null, first_seen_at, last_seen_at, observations from web_ids
    union all
    select 'device_id', device_id, null, first_seen_at, last_seen_at, observations from web_ids
    union all
    select 'email', lower(btrim(email)), null, occurred_at, occurred_at, 1
    from {{ ref('stg_segment__identifies') }}
    union all
    select 'phone', btrim(phone),
           coalesce({{ identity_country_code('country') }}, {{ identity_locale_region('locale') }}),
           occurred_at, occurred_at, 1
    from {{ ref('stg_segment__identifies') }}
    union all
    select 'user_id', user_id, null, occurred_at, occurred_at, 1 from aliases
    union all
    select case when previous_user_ids.previous_id is null then 'anonymous_id' else 'user_id' end,
           aliases.previous_id, null, aliases.occurred_at, aliases.occurred_at, 1
    from aliases
    left join previous_user_ids on aliases.previous_id = previous_user_ids.previous_id
    union all
    select 'shopify_order_id', {{ cast_as('order_id', 'text') }}, null, created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'shopify_customer_id', {{ cast_as('customer_id', 'text') }}, null, created_at, created_at, 1
    from {{ ref('stg_shopify__orders') }}
    union all
    select 'email', lower(btrim(email)), null, created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'email', lower(btrim(customer_email)), null, created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'phone', btrim(customer_phone), {{ identity_country_code('customer_country_code') }}, created_at, created_at, 1
    from {{ ref('stg_shopify__orders') }}
    union all
    select 'shopify_order_id', btrim(order_id), null, ordered_at, ordered_at, 1
    from {{ ref('stg_store__historical_orders') }}
    union all
    select 'shopify_customer_id', btrim(customer_id), null, ordered_at, ordered_at, 1
    from {{ ref('stg_store__historical_orders') }}
    union all
    select 'email', lower(btrim(email)), null, ordered_at, ordered_at, 1 from {{ ref('stg_store__historical_orders') }}
    union all
    select 'email', lower(btrim(email)), null, occurred_at, occurred_at, 1 from {{ ref('stg_sendgrid__events') }}
    union all
    select 'email_provider_id', contact_id, null, occurred_at, occurred_at, 1 from {{ ref('stg_sendgrid__events') }}
    union all
    select 'social_handle', lower(platform) || ':' || nullif(lower(ltrim(btrim(handle), '@')), ''), null,
           occurred_at, occurred_at, 1
    from {{ ref('stg_social__engagements') }}
    union all
    select 'email', lower(btrim(email)), null, occurred_at, occurred_at, 1 from {{ ref('stg_social__engagements') }}
)

select
    identifier_type,
    identifier_value,
    region,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at,
    cast(sum(observations) as bigint) as observations
from occurrences
where coalesce(identifier_value, '') <> ''
group by 1, 2, 3
