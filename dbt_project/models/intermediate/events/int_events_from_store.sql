{{ config(**incremental_events_config()) }}

-- Historical store orders (the old till's CSV exports) in the one event shape of
-- int_events_unioned: source store, event_type purchase. One row per order (order_key), every
-- order loaded: an order Shopify also has, now or later, is Shopify's, and int_events_unioned
-- leaves it out there (an anti-join on the order id), so it counts once and a Shopify order
-- arriving after the store's needs no rewrite of this table.

with

historical_orders as (
    select * from {{ ref('stg_store__historical_orders') }}
    where {{ past_load_watermark() }}
),

store as (
    select
        'store' as source_system,
        historical_orders.order_key as source_record_id,
        'store' as source,
        'purchase' as event_type,
        'Historical Order' as event_name,
        {{ cast_as('null', 'text') }} as anonymous_id,
        {{ cast_as('null', 'text') }} as user_id,
        {{ cast_as('null', 'text') }} as device_id,
        {{ email_key('historical_orders.email') }} as email,
        {{ identifier_key('historical_orders.customer_id') }} as shopify_customer_id,
        {{ identifier_key('historical_orders.order_id') }} as shopify_order_id,
        {{ cast_as('null', 'text') }} as email_provider_id,
        {{ cast_as('null', 'text') }} as social_handle,
        {{ cast_as('null', 'text') }} as page_url,
        {{ cast_as('null', 'text') }} as page_title,
        {{ cast_as('null', 'text') }} as referrer,
        {{ json_object({
            'order_id': 'historical_orders.order_id',
            'order_key': 'historical_orders.order_key',
            'customer_id': 'historical_orders.customer_id',
            'amount': 'historical_orders.amount',
            'currency': 'historical_orders.currency',
        }, strip_nulls=true) }} as properties,
        {{ cast_as('null', 'uuid') }} as content_id,
        {{ cast_as('null', 'uuid') }} as product_id,
        {{ cast_as('null', 'text') }} as campaign,
        {{ cast_as('null', 'text') }} as medium,
        {{ cast_as('null', 'text') }} as device_type,
        {{ cast_as('null', 'text') }} as browser,
        {{ cast_as('null', 'text') }} as os,
        {{ cast_as('null', 'text') }} as ip_address,
        {{ cast_as('null', 'text') }} as country,
        {{ cast_as('null', 'text') }} as city,
        {{ cast_as('null', 'text') }} as timezone,
        {{ spec_money('historical_orders.amount') }} as revenue,
        cast(null as boolean) as refuses_all_tracking,
        false as is_behavioural,
        historical_orders.ordered_at as occurred_at,
        historical_orders.loaded_at,
        historical_orders.load_seq
    from historical_orders
)

select * from store
