{{ config(materialized='view') }}

-- The spec's "WTP Distribution" query.

with

profiles as (
    select * from {{ ref('audience_profiles') }}
)

select
    case
        when wtp_score >= 80 then 'Very High (80-100)'
        when wtp_score >= 60 then 'High (60-79)'
        when wtp_score >= 40 then 'Medium (40-59)'
        when wtp_score >= 20 then 'Low (20-39)'
        else 'Very Low (0-19)'
    end as wtp_tier,
    count(*) as profile_count,
    round(avg(total_revenue), 2) as avg_revenue,
    count(case when total_orders > 0 then 1 end) as customers
from profiles
group by 1
order by min(wtp_score) desc
