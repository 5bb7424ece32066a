{{ config(materialized='table') }}

-- Every pair of identifiers the data proves belong together, one row per distinct pair and
-- evidence kind. Values are trimmed; emails lower-cased; handles become 'platform:handle'.
-- Junk values are NOT filtered here: identity resolution blocks them (and says why).

with

identifies as (
    select * from {{ ref('stg_segment__identifies') }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
),

pages as (
    select * from {{ ref('stg_segment__pages') }}
),

screens as (
    select * from {{ ref('stg_segment__screens') }}
),

orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

historical_orders as (
    select * from {{ ref('stg_store__historical_orders') }}
),

email_events as (
    select * from {{ ref('stg_sendgrid__events') }}
),

social as (
    select * from {{ ref('stg_social__engagements') }}
),

web_activity as (
    select anonymous_id, user_id, device_id, occurred_at from tracks
    union all
    select anonymous_id, user_id, device_id, occurred_at from pages
    union all
    select anonymous_id, user_id, device_id, occurred_at from screens
    union all
    select anonymous_id, user_id, device_id, occurred_at from identifies
),

pairs as (
    -- identify: the user id (or, without one, the email) is the hub of the call's identifiers
    select 'user_id' as left_type, user_id as left_value, 'email' as right_type,
           lower(btrim(email)) as right_value, 'segment.identify' as edge_source, occurred_at
    from identifies
    union all
    select 'user_id', user_id, 'phone', btrim(phone), 'segment.identify', occurred_at
    from identifies
    union all
    select 'email', lower(btrim(email)), 'anonymous_id', anonymous_id, 'segment.identify', occurred_at
    from identifies
    where user_id is null
    union all
    select 'email', lower(btrim(email)), 'phone', btrim(phone), 'segment.identify', occurred_at
    from identifies
    where user_id is null
    union all
    -- any message carrying both ids (identify, track, page, screen)
    select 'user_id', user_id, 'anonymous_id', anonymous_id, 'segment.message', occurred_at
    from web_activity
    union all
    -- the app's device id and the anonymous ids the app used on it
    select 'device_id', device_id, 'anonymous_id', anonymous_id, 'segment.context.device', occurred_at
    from web_activity
    union all
    -- alias: previousId (an anonymous id) becomes the user id
    select 'user_id', user_id, 'anonymous_id', previous_id, 'segment.alias', occurred_at
    from aliases
    union all
    -- a web checkout names the Shopify order it created
    select 'shopify_order_id', properties ->> 'order_id', 'anonymous_id', anonymous_id,
           'segment.order_completed', occurred_at
    from tracks
    where event_name = 'Order Completed'
    union all
    select 'shopify_order_id', properties ->> 'order_id', 'user_id', user_id,
           'segment.order_completed', occurred_at
    from tracks
    where event_name = 'Order Completed'
    union all
    -- Shopify: the order names its customer and an email; the customer has an email and phone
    select 'shopify_order_id', order_id::text, 'shopify_customer_id', customer_id::text,
           'shopify.order', created_at
    from orders
    union all
    select 'shopify_order_id', order_id::text, 'email', lower(btrim(email)), 'shopify.order', created_at
    from orders
    union all
    select 'shopify_customer_id', customer_id::text, 'email', lower(btrim(customer_email)),
           'shopify.customer', created_at
    from orders
    union all
    select 'shopify_customer_id', customer_id::text, 'phone', btrim(customer_phone),
           'shopify.customer', created_at
    from orders
    union all
    select 'shopify_customer_id', btrim(customer_id), 'email', lower(btrim(email)),
           'store.historical_order', ordered_at
    from historical_orders
    union all
    select 'shopify_order_id', btrim(order_id), 'shopify_customer_id', btrim(customer_id),
           'store.historical_order', ordered_at
    from historical_orders
    union all
    select 'shopify_order_id', btrim(order_id), 'email', lower(btrim(email)),
           'store.historical_order', ordered_at
    from historical_orders
    union all
    -- the email provider's contact id for an address
    select 'email', lower(btrim(email)), 'email_provider_id', contact_id, 'sendgrid.event', occurred_at
    from email_events
    union all
    -- a social action that carried an email (lead forms)
    select 'social_handle', lower(platform) || ':' || nullif(lower(ltrim(btrim(handle), '@')), ''),
           'email', lower(btrim(email)), 'social.engagement', occurred_at
    from social
),

edges as (
    select
        left_type,
        left_value,
        right_type,
        right_value,
        edge_source,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as observations
    from pairs
    where coalesce(left_value, '') <> ''
      and coalesce(right_value, '') <> ''
      and not (left_type = right_type and left_value = right_value)
    group by 1, 2, 3, 4, 5
)

select * from edges
