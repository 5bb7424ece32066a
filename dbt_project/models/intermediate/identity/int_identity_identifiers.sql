{{ config(materialized='table') }}

-- Every identifier any record carries, linked or not, with when it was first and last seen: the
-- identity graph's nodes. An anonymous visitor who never identifies appears here (and becomes an
-- anonymous profile) although no edge names them. Values are normalised exactly as in
-- int_identity_edges; phones are normalised to E.164 by identity resolution.

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
    select 'anonymous_id' as identifier_type, anonymous_id as identifier_value,
           first_seen_at, last_seen_at, observations
    from web_ids
    union all
    select 'user_id', user_id, first_seen_at, last_seen_at, observations from web_ids
    union all
    select 'device_id', device_id, first_seen_at, last_seen_at, observations from web_ids
    union all
    select 'email', lower(btrim(email)), occurred_at, occurred_at, 1
    from {{ ref('stg_segment__identifies') }}
    union all
    select 'phone', btrim(phone), occurred_at, occurred_at, 1
    from {{ ref('stg_segment__identifies') }}
    union all
    select 'user_id', user_id, occurred_at, occurred_at, 1 from {{ ref('stg_segment__aliases') }}
    union all
    select 'anonymous_id', previous_id, occurred_at, occurred_at, 1 from {{ ref('stg_segment__aliases') }}
    union all
    select 'shopify_order_id', order_id::text, created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'shopify_customer_id', customer_id::text, created_at, created_at, 1
    from {{ ref('stg_shopify__orders') }}
    union all
    select 'email', lower(btrim(email)), created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'email', lower(btrim(customer_email)), created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'phone', btrim(customer_phone), created_at, created_at, 1 from {{ ref('stg_shopify__orders') }}
    union all
    select 'shopify_order_id', btrim(order_id), ordered_at, ordered_at, 1
    from {{ ref('stg_store__historical_orders') }}
    union all
    select 'shopify_customer_id', btrim(customer_id), ordered_at, ordered_at, 1
    from {{ ref('stg_store__historical_orders') }}
    union all
    select 'email', lower(btrim(email)), ordered_at, ordered_at, 1 from {{ ref('stg_store__historical_orders') }}
    union all
    select 'email', lower(btrim(email)), occurred_at, occurred_at, 1 from {{ ref('stg_sendgrid__events') }}
    union all
    select 'email_provider_id', contact_id, occurred_at, occurred_at, 1 from {{ ref('stg_sendgrid__events') }}
    union all
    select 'social_handle', lower(platform) || ':' || nullif(lower(ltrim(btrim(handle), '@')), ''),
           occurred_at, occurred_at, 1
    from {{ ref('stg_social__engagements') }}
    union all
    select 'email', lower(btrim(email)), occurred_at, occurred_at, 1 from {{ ref('stg_social__engagements') }}
)

select
    identifier_type,
    identifier_value,
    min(first_seen_at) as first_seen_at,
    max(last_seen_at) as last_seen_at,
    sum(observations)::bigint as observations
from occurrences
where coalesce(identifier_value, '') <> ''
group by 1, 2
