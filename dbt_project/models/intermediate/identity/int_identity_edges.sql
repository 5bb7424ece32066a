{{ config(**identity_graph_config(
    key_columns=['left_type', 'left_value', 'right_type', 'right_value', 'right_region', 'edge_source'],
    nullable_key='right_region',
    retype={'condition': "edge_source = 'segment.alias'", 'type': 'right_type', 'value': 'right_value'},
    lookup_columns=['left_value', 'right_value'],
)) }}

-- Every pair of identifiers the data proves belong together, one row per distinct pair, evidence
-- kind and phone country context. Values are trimmed; emails lower-cased; handles become
-- 'platform:handle'; a phone (always the right side) carries the country its record gives
-- (right_region). Junk values are NOT filtered here: identity resolution blocks them, normalises
-- emails and phones, and says why. Every link of a message is built whatever its user id holds,
-- so a junk user id (blocked later) behaves as an absent one.
-- Incremental: new staging rows merged into the stored ones (macros/incremental_identity.sql).

{%- set watermark = identity_graph_watermark() %}

with

identifies as (
    select * from {{ ref('stg_segment__identifies') }} where {{ identity_graph_window() }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }} where {{ identity_graph_window() }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }} where {{ identity_graph_window() }}
),

pages as (
    select * from {{ ref('stg_segment__pages') }} where {{ identity_graph_window() }}
),

screens as (
    select * from {{ ref('stg_segment__screens') }} where {{ identity_graph_window() }}
),

orders as (
    select * from {{ ref('stg_shopify__orders') }} where {{ identity_graph_window() }}
),

historical_orders as (
    select * from {{ ref('stg_store__historical_orders') }} where {{ identity_graph_window() }}
),

email_events as (
    select * from {{ ref('stg_sendgrid__events') }} where {{ identity_graph_window() }}
),

social as (
    select * from {{ ref('stg_social__engagements') }} where {{ identity_graph_window() }}
),

-- the country a phone number is written in: the identify's address, else its locale's region
identify_regions as (
    select
        *,
        coalesce(
            {{ identity_country_code('country') }},
            {{ identity_locale_region('locale') }}
        ) as phone_region
    from identifies
),

web_activity as (
    select anonymous_id, user_id, device_id, occurred_at, load_seq from tracks
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from pages
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from screens
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from identifies
),

-- alias.previousId is a user id when any record carries the value as one (int_identity_identifiers)
alias_previous_ids as (
    select distinct previous_id from aliases where previous_id is not null
),

previous_user_ids as (
    select identifiers.identifier_value as previous_id
    from {{ ref('int_identity_identifiers') }} as identifiers
    inner join alias_previous_ids on identifiers.identifier_value = alias_previous_ids.previous_id
    where identifiers.identifier_type = 'user_id' and identifiers.origin = 'record'
),

typed_aliases as (
    select
        aliases.user_id,
        aliases.previous_id,
        case when previous_user_ids.previous_id is null then 'anonymous_id' else 'user_id' end as previous_type,
        aliases.occurred_at,
        aliases.load_seq
    from aliases
    left join previous_user_ids on aliases.previous_id = previous_user_ids.previous_id
),

pairs as (
    -- identify: the user id and the email are each linked to the call's other identifiers
    select 'user_id' as left_type, user_id as left_value, 'email' as right_type,
           lower(btrim(email)) as right_value, {{ cast_as('null', 'text') }} as right_region,
           'segment.identify' as edge_source, occurred_at, load_seq
    from identifies
    union all
    select 'user_id', user_id, 'phone', btrim(phone), phone_region, 'segment.identify', occurred_at, load_seq
    from identify_regions
    union all
    select 'email', lower(btrim(email)), 'anonymous_id', anonymous_id, null, 'segment.identify', occurred_at, load_seq
    from identifies
    union all
    select 'email', lower(btrim(email)), 'phone', btrim(phone), phone_region, 'segment.identify', occurred_at, load_seq
    from identify_regions
    union all
    -- any message carrying both ids (identify, track, page, screen)
    select 'user_id', user_id, 'anonymous_id', anonymous_id, null, 'segment.message', occurred_at, load_seq
    from web_activity
    union all
    -- the app's device id and the anonymous ids the app used on it
    select 'device_id', device_id, 'anonymous_id', anonymous_id, null, 'segment.context.device', occurred_at, load_seq
    from web_activity
    union all
    -- alias: the user id and previousId (a user id or an anonymous id) are one identity
    select 'user_id', user_id, previous_type, previous_id, null, 'segment.alias', occurred_at, load_seq
    from typed_aliases
    union all
    -- a web checkout names the Shopify order it created
    select 'shopify_order_id', {{ json_text('properties', 'order_id') }}, 'anonymous_id', anonymous_id, null,
           'segment.order_completed', occurred_at, load_seq
    from tracks
    where event_name = 'Order Completed'
    union all
    select 'shopify_order_id', {{ json_text('properties', 'order_id') }}, 'user_id', user_id, null,
           'segment.order_completed', occurred_at, load_seq
    from tracks
    where event_name = 'Order Completed'
    union all
    -- Shopify: the order names its customer and an email; the customer has an email and phone
    select 'shopify_order_id', {{ cast_as('order_id', 'text') }}, 'shopify_customer_id', {{ cast_as('customer_id', 'text') }}, null,
           'shopify.order', created_at, load_seq
    from orders
    union all
    select 'shopify_order_id', {{ cast_as('order_id', 'text') }}, 'email', lower(btrim(email)), null, 'shopify.order', created_at, load_seq
    from orders
    union all
    select 'shopify_customer_id', {{ cast_as('customer_id', 'text') }}, 'email', lower(btrim(customer_email)), null,
           'shopify.customer', created_at, load_seq
    from orders
    union all
    select 'shopify_customer_id', {{ cast_as('customer_id', 'text') }}, 'phone', btrim(customer_phone),
           {{ identity_country_code('customer_country_code') }}, 'shopify.customer', created_at, load_seq
    from orders
    union all
    select 'shopify_customer_id', btrim(customer_id), 'email', lower(btrim(email)), null,
           'store.historical_order', ordered_at, load_seq
    from historical_orders
    union all
    select 'shopify_order_id', btrim(order_id), 'shopify_customer_id', btrim(customer_id), null,
           'store.historical_order', ordered_at, load_seq
    from historical_orders
    union all
    select 'shopify_order_id', btrim(order_id), 'email', lower(btrim(email)), null,
           'store.historical_order', ordered_at, load_seq
    from historical_orders
    union all
    -- the email provider's contact id for an address
    select 'email', lower(btrim(email)), 'email_provider_id', contact_id, null, 'sendgrid.event', occurred_at, load_seq
    from email_events
    union all
    -- a social action that carried an email (lead forms)
    select 'social_handle', lower(platform) || ':' || nullif(lower(ltrim(btrim(handle), '@')), ''),
           'email', lower(btrim(email)), null, 'social.engagement', occurred_at, load_seq
    from social
),

new_rows as (
    select
        left_type,
        left_value,
        right_type,
        right_value,
        right_region,
        edge_source,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as observations,
        max(load_seq) as load_seq
    from pairs
    where coalesce(left_value, '') <> ''
      and coalesce(right_value, '') <> ''
      and not (left_type = right_type and left_value = right_value)
    group by 1, 2, 3, 4, 5, 6
)

{{ identity_graph_result(
    "select identifier_value from " ~ ref('int_identity_identifiers')
    ~ " where identifier_type = 'user_id' and origin = 'record' and load_seq > " ~ watermark
) }}
