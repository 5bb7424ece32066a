{{ config(**identity_graph_config(
    key_columns=['identifier_type', 'identifier_value', 'region', 'origin'],
    nullable_key='region',
    retype={'condition': "origin = 'alias_previous_id'", 'type': 'identifier_type', 'value': 'identifier_value'},
    lookup_columns=['identifier_value'],
)) }}

-- Every identifier any record carries, linked or not, with when it was first and last seen: the
-- identity graph's nodes. An anonymous visitor who never identifies appears here (and becomes an
-- anonymous profile) although no edge names them. Values are normalised exactly as in
-- int_identity_edges (an alias's previousId typed the same way); a phone carries the country its
-- record gives (region) and is normalised to E.164 by identity resolution.
--
-- Incremental (macros/incremental_identity.sql): a build reads the staging rows loaded after its
-- checkpoint and merges their aggregates into the stored rows. An alias's previousId is a row of
-- its own (origin alias_previous_id), so when a later record shows the value is a user id the
-- row moves whole from anonymous_id to user_id.

{%- set watermark = identity_graph_watermark() %}

with

tracks as (
    select * from {{ ref('stg_segment__tracks') }} where {{ identity_graph_window() }}
),

pages as (
    select * from {{ ref('stg_segment__pages') }} where {{ identity_graph_window() }}
),

screens as (
    select * from {{ ref('stg_segment__screens') }} where {{ identity_graph_window() }}
),

identifies as (
    select * from {{ ref('stg_segment__identifies') }} where {{ identity_graph_window() }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }} where {{ identity_graph_window() }}
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

web_activity as (
    select anonymous_id, user_id, device_id, occurred_at, load_seq from tracks
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from pages
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from screens
    union all
    select anonymous_id, user_id, device_id, occurred_at, load_seq from identifies
),

alias_previous_ids as (
    select distinct previous_id from aliases where previous_id is not null
),

-- a previousId is a user id when any record carries the value as one: a record read now, or
-- (incremental) one aggregated before
previous_user_ids as (
    select web_activity.user_id as previous_id
    from web_activity
    inner join alias_previous_ids on web_activity.user_id = alias_previous_ids.previous_id
    union
    select aliases.user_id
    from aliases
    inner join alias_previous_ids on aliases.user_id = alias_previous_ids.previous_id
    {%- if watermark is not none %}
    union
    select stored.identifier_value
    from {{ this }} as stored
    inner join alias_previous_ids on stored.identifier_value = alias_previous_ids.previous_id
    where stored.identifier_type = 'user_id' and stored.origin = 'record'
    {%- endif %}
),

web_ids as (
    -- one pass over the web activity: its three identifier columns side by side
    select
        anonymous_id,
        user_id,
        device_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as observations,
        max(load_seq) as load_seq
    from web_activity
    group by 1, 2, 3
),

occurrences as (
    select 'anonymous_id' as identifier_type, anonymous_id as identifier_value, {{ cast_as('null', 'text') }} as region,
           'record' as origin, first_seen_at, last_seen_at, observations, load_seq
    from web_ids
    union all
    select 'user_id', user_id, null, 'record', first_seen_at, last_seen_at, observations, load_seq from web_ids
    union all
    select 'device_id', device_id, null, 'record', first_seen_at, last_seen_at, observations, load_seq from web_ids
    union all
    select 'email', lower(btrim(email)), null, 'record', occurred_at, occurred_at, 1, load_seq from identifies
    union all
    select 'phone', btrim(phone),
           coalesce({{ identity_country_code('country') }}, {{ identity_locale_region('locale') }}),
           'record', occurred_at, occurred_at, 1, load_seq
    from identifies
    union all
    select 'user_id', user_id, null, 'record', occurred_at, occurred_at, 1, load_seq from aliases
    union all
    select case when previous_user_ids.previous_id is null then 'anonymous_id' else 'user_id' end,
           aliases.previous_id, null, 'alias_previous_id', aliases.occurred_at, aliases.occurred_at, 1, aliases.load_seq
    from aliases
    left join previous_user_ids on aliases.previous_id = previous_user_ids.previous_id
    union all
    select 'shopify_order_id', {{ cast_as('order_id', 'text') }}, null, 'record', created_at, created_at, 1, load_seq
    from orders
    union all
    select 'shopify_customer_id', {{ cast_as('customer_id', 'text') }}, null, 'record', created_at, created_at, 1, load_seq
    from orders
    union all
    select 'email', lower(btrim(email)), null, 'record', created_at, created_at, 1, load_seq from orders
    union all
    select 'email', lower(btrim(customer_email)), null, 'record', created_at, created_at, 1, load_seq from orders
    union all
    select 'phone', btrim(customer_phone), {{ identity_country_code('customer_country_code') }}, 'record',
           created_at, created_at, 1, load_seq
    from orders
    union all
    select 'shopify_order_id', btrim(order_id), null, 'record', ordered_at, ordered_at, 1, load_seq from historical_orders
    union all
    select 'shopify_customer_id', btrim(customer_id), null, 'record', ordered_at, ordered_at, 1, load_seq
    from historical_orders
    union all
    select 'email', lower(btrim(email)), null, 'record', ordered_at, ordered_at, 1, load_seq from historical_orders
    union all
    select 'email', lower(btrim(email)), null, 'record', occurred_at, occurred_at, 1, load_seq from email_events
    union all
    select 'email_provider_id', contact_id, null, 'record', occurred_at, occurred_at, 1, load_seq from email_events
    union all
    select 'social_handle', lower(platform) || ':' || nullif(lower(ltrim(btrim(handle), '@')), ''), null, 'record',
           occurred_at, occurred_at, 1, load_seq
    from social
    union all
    select 'email', lower(btrim(email)), null, 'record', occurred_at, occurred_at, 1, load_seq from social
),

new_rows as (
    select
        identifier_type,
        identifier_value,
        region,
        origin,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        {{ cast_as('sum(observations)', 'bigint') }} as observations,
        max(load_seq) as load_seq
    from occurrences
    where coalesce(identifier_value, '') <> ''
    group by 1, 2, 3, 4
)

{{ identity_graph_result(
    "select identifier_value from new_rows where identifier_type = 'user_id' and origin = 'record'"
) }}
