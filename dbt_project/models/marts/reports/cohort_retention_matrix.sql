-- Cohort × period since entry: of the members who entered in a cohort period, how many were
-- active (any event in audience_events) in each later period. Period 0 is the entry period.

with

cohorts as (
    select * from {{ ref('stg_segments__cohort_definitions') }}
    where cohort_status = 'active'
),

members as (
    select
        membership.cohort_id,
        cohorts.cohort_name,
        cohorts.cohort_period,
        membership.profile_id,
        membership.cohort_period_start,
        membership.entered_at
    from {{ ref('stg_segments__cohort_memberships') }} as membership
    join cohorts on cohorts.cohort_id = membership.cohort_id
),

sizes as (
    select cohort_id, cohort_period_start, count(*) as cohort_size
    from members
    group by 1, 2
),

active_periods as (
    select distinct
        members.cohort_id,
        members.cohort_period_start,
        members.profile_id,
        cast(case members.cohort_period
            when 'day' then
                {{ dbt.datediff('members.cohort_period_start', "date_trunc('day', events.occurred_at)", 'day') }}
            when 'week' then
                {{ dbt.datediff('members.cohort_period_start', "date_trunc('week', events.occurred_at)", 'day') }} / 7
            else
                (extract(year from events.occurred_at) - extract(year from members.cohort_period_start)) * 12
                + extract(month from events.occurred_at) - extract(month from members.cohort_period_start)
        end as integer) as period_number
    from members
    join {{ ref('audience_events') }} as events
        on events.profile_id = members.profile_id
        and events.occurred_at >= members.cohort_period_start
),

retained as (
    select cohort_id, cohort_period_start, period_number, count(*) as active_members
    from active_periods
    group by 1, 2, 3
)

select
    sizes.cohort_id,
    cohorts.cohort_name,
    cohorts.cohort_period,
    sizes.cohort_period_start,
    retained.period_number,
    sizes.cohort_size,
    retained.active_members,
    round(cast(retained.active_members as numeric) / sizes.cohort_size, 4) as retention_rate
from retained
join sizes
    on sizes.cohort_id = retained.cohort_id and sizes.cohort_period_start = retained.cohort_period_start
join cohorts on cohorts.cohort_id = sizes.cohort_id
