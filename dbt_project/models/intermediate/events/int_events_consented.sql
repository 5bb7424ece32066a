-- Do-not-track: a 'Segment Consent Preference Updated' that refuses every category opts the
-- person out of tracking until their next consent update (if any). Behavioural events in
-- such a window are dropped: web/app calls, email opens and clicks, social engagements.
-- Kept: the consent events themselves, orders, and email deliveries, bounces and opt-outs
-- (records of what was sent and agreed, not tracking).
--
-- The person is the resolved profile, or, for a visitor identity resolution does not know,
-- the (non-blocked) anonymous id.

{%- set person_key -%}
    coalesce(
        {{ cast_as('profile_id', 'text') }},
        case when not anonymous_id_blocked then 'anonymous_id:' || anonymous_id end
    )
{%- endset %}

with

events as (
    select
        *,
        {{ person_key }} as person_key
    from {{ ref('int_events_resolved') }}
),

consent_updates as (
    -- read apart from `events` (a second, filtered read of the view rather than a copy of
    -- every event): the filter reaches the consent track calls only
    select
        {{ person_key }} as person_key,
        occurred_at,
        refuses_all_tracking,
        lead(occurred_at) over (
            partition by {{ person_key }} order by occurred_at, source_record_id
        ) as next_update_at
    from {{ ref('int_events_resolved') }}
    where refuses_all_tracking is not null
      and {{ person_key }} is not null
),

opt_outs as (
    select
        person_key,
        occurred_at as opted_out_at,
        next_update_at as opted_in_at
    from consent_updates
    where refuses_all_tracking
),

consented as (
    -- anti-join: windows of one person never overlap, so an event matches at most one
    select events.*
    from events
    left join opt_outs
        on events.is_behavioural
        and opt_outs.person_key = events.person_key
        and events.occurred_at > opt_outs.opted_out_at
        and (opt_outs.opted_in_at is null or events.occurred_at < opt_outs.opted_in_at)
    where opt_outs.person_key is null
)

select * from consented
