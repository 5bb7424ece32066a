{{ config(materialized='view') }}

-- The spec's "RFM Segment Analysis" query. Days since the last order count up to the scores' as_of
-- (profile_scores.scored_at: the clock of the run that computed the RFM scores), not to the
-- moment the view is read, so the report agrees with the segments it explains.

with

profiles as (
    select * from {{ ref('audience_profiles') }}
),

scored as (
    select max(scored_at) as as_of from {{ ref('stg_scoring__profile_scores') }}
)

select
    rfm_segment,
    count(*) as customer_count,
    round(avg(total_revenue), 2) as avg_revenue,
    round(avg(total_orders), 1) as avg_orders,
    round(avg({{ seconds_between('last_order_at', 'scored.as_of') }} / 86400), 0) as avg_days_since_order
from profiles
cross join scored
where rfm_segment is not null
group by rfm_segment
order by avg_revenue desc
