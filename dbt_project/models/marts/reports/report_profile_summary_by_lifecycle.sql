{{ config(materialized='view') }}

-- The spec's "Profile Summary by Lifecycle Stage" query.

with

profiles as (
    select * from {{ ref('audience_profiles') }}
)

select
    lifecycle_stage,
    count(*) as profile_count,
    round(avg(engagement_score), 1) as avg_engagement,
    round(avg(wtp_score), 1) as avg_wtp,
    round(avg(total_revenue), 2) as avg_revenue,
    count(case when email_subscribed then 1 end) as email_subscribers
from profiles
group by lifecycle_stage
order by
    case lifecycle_stage
        when 'advocate' then 1
        when 'customer' then 2
        when 'subscriber' then 3
        when 'visitor' then 4
        else 5
    end
