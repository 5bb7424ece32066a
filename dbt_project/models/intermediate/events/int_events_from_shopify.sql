{{ config(**incremental_events_config()) }}

-- Shopify orders in the one event shape of int_events_unioned: source shopify, event_type
-- purchase, or order_cancelled / order_refunded (a cancelled, voided or refunded order is not a
-- purchase and has no revenue); properties hold the order, its products and its customer. One
-- row per order (order_id), so an incremental version can append the orders loaded after the
-- last build.

with

orders as (
    select * from {{ ref('stg_shopify__orders') }}
    where {{ past_load_watermark() }}
),

line_items as (
    -- a line item carries its order's load_seq
    select * from {{ ref('stg_shopify__order_line_items') }}
    where {{ past_load_watermark() }}
),

order_products as (
    select
        order_id,
        {{ json_agg_ordered(
            json_object({
                'product_id': cast_as('product_id', 'text'),
                'variant_id': cast_as('variant_id', 'text'),
                'sku': 'sku',
                'name': 'title',
                'category': 'product_type',
                'vendor': 'vendor',
                'quantity': 'quantity',
                'price': 'price',
            }, strip_nulls=true),
            'line_number'
        ) }} as products
    from line_items
    group by order_id
),

{%- set customer = json_object({
    'id': cast_as('orders.customer_id', 'text'),
    'first_name': 'orders.customer_first_name',
    'last_name': 'orders.customer_last_name',
    'city': 'orders.customer_city',
    'province': 'orders.customer_province',
    'country_code': 'orders.customer_country_code',
    'accepts_marketing': 'orders.accepts_marketing',
    'created_at': 'orders.customer_created_at',
}, strip_nulls=true) %}

shopify as (
    select
        'shopify' as source_system,
        {{ cast_as('orders.order_id', 'text') }} as source_record_id,
        'shopify' as source,
        case
            when orders.cancelled_at is not null or orders.financial_status = 'voided' then 'order_cancelled'
            when orders.financial_status = 'refunded' then 'order_refunded'
            else 'purchase'
        end as event_type,
        'Order Placed' as event_name,
        {{ cast_as('null', 'text') }} as anonymous_id,
        {{ cast_as('null', 'text') }} as user_id,
        {{ cast_as('null', 'text') }} as device_id,
        {{ email_key('coalesce(orders.email, orders.customer_email)') }} as email,
        {{ cast_as('orders.customer_id', 'text') }} as shopify_customer_id,
        {{ cast_as('orders.order_id', 'text') }} as shopify_order_id,
        {{ cast_as('null', 'text') }} as email_provider_id,
        {{ cast_as('null', 'text') }} as social_handle,
        {{ cast_as('null', 'text') }} as page_url,
        {{ cast_as('null', 'text') }} as page_title,
        orders.referring_site as referrer,
        {{ json_object({
            'order_id': cast_as('orders.order_id', 'text'),
            'order_name': 'orders.order_name',
            'order_number': 'orders.order_number',
            'currency': 'orders.currency',
            'subtotal_price': 'orders.subtotal_price',
            'total_discounts': 'orders.total_discounts',
            'total_tax': 'orders.total_tax',
            'total_price': 'orders.total_price',
            'financial_status': 'orders.financial_status',
            'source_name': 'orders.source_name',
            'landing_site': 'orders.landing_site',
            'discount_codes': json_from('orders.discount_codes'),
            'products': 'coalesce(order_products.products, ' ~ json_empty_array() ~ ')',
            'customer': 'case when orders.customer_id is not null then ' ~ customer ~ ' end',
        }, strip_nulls=true) }} as properties,
        {{ cast_as('null', 'uuid') }} as content_id,
        {{ cast_as('null', 'uuid') }} as product_id,
        {{ utm_parameter('orders.landing_site', 'utm_campaign') }} as campaign,
        {{ utm_parameter('orders.landing_site', 'utm_medium') }} as medium,
        {{ cast_as('null', 'text') }} as device_type,
        {{ cast_as('null', 'text') }} as browser,
        {{ cast_as('null', 'text') }} as os,
        {{ cast_as('null', 'text') }} as ip_address,
        orders.customer_country_code as country,
        orders.customer_city as city,
        {{ cast_as('null', 'text') }} as timezone,
        case
            when orders.cancelled_at is null and orders.financial_status is distinct from 'voided'
                and orders.financial_status is distinct from 'refunded'
                then {{ spec_money('orders.total_price') }}
        end as revenue,
        cast(null as boolean) as refuses_all_tracking,
        false as is_behavioural,
        orders.created_at as occurred_at,
        orders.loaded_at,
        orders.load_seq
    from orders
    left join order_products on order_products.order_id = orders.order_id
)

select * from shopify
