{{ config(materialized='view') }}

-- The spec's "RFM Segment Analysis" query.

with

profiles as (
    select * from {{ ref('audience_profiles') }}
)

select
    rfm_segment,
    count(*) as customer_count,
    round(avg(total_revenue), 2) as avg_revenue,
    round(avg(total_orders), 1) as avg_orders,
    round(avg(extract(epoch from (now() - last_order_at)) / 86400), 0) as avg_days_since_order
from profiles
where rfm_segment is not null
group by rfm_segment
order by avg_revenue desc
