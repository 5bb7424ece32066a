{{ config(materialized='view') }}

-- The spec's "Segment Performance" query: active segments with members, best revenue first.

with

segments as (
    select * from {{ ref('stg_segments__micro_segments') }}
),

membership as (
    select * from {{ ref('stg_segments__segment_memberships') }}
),

profiles as (
    select * from {{ ref('audience_profiles') }}
)

select
    segments.segment_id,
    segments.segment_name as segment,
    segments.member_count,
    round(avg(profiles.wtp_score), 1) as avg_wtp,
    round(avg(profiles.total_revenue), 2) as avg_revenue,
    round(avg(profiles.engagement_score), 1) as avg_engagement
from segments
join membership on segments.segment_id = membership.segment_id
join profiles on membership.profile_id = profiles.id
where segments.segment_status = 'active'
group by segments.segment_id, segments.segment_name, segments.member_count
order by avg_revenue desc nulls last
