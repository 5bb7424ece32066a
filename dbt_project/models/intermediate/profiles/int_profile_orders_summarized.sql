-- An incremental table, one row per profile with a purchase (an increment recomputes the
-- profiles whose events changed: macros/profile_changes.sql): orders, revenue and the last
-- order time. Purchases
-- only: cancelled, voided and refunded orders are other event types, and a Segment
-- `Order Completed` has no revenue (the order counts once, as Shopify's).
{{ config(**profile_table_config()) }}

with

purchases as (
    select * from {{ profile_events() }}
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
