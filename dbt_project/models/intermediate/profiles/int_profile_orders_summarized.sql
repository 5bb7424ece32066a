-- A table, one row per profile with a purchase (it survives the rebuild of audience_events,
-- which drops the views that depend on it): orders, revenue and the last order time. Purchases
-- only: cancelled, voided and refunded orders are other event types, and a Segment
-- `Order Completed` has no revenue (the order counts once, as Shopify's).
{{ config(materialized='table') }}

with

purchases as (
    select * from {{ ref('audience_events') }}
    where event_type = 'purchase'
      and profile_id is not null
),

summarized as (
    select
        profile_id,
        count(*) as total_orders,
        sum(revenue) as total_revenue,
        max(occurred_at) as last_order_at
    from purchases
    group by profile_id
)

select * from summarized
