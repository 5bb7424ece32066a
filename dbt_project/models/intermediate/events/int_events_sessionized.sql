-- Sessions for website and app events (Segment), which carry no session id: the events of
-- one actor (the anonymous id; else the app's device id; else the user id; blocked junk ids
-- never count) ordered by time, and a new session starts after 30 minutes without an event.
-- session_id is an md5 uuid of (actor, session start), so rebuilds keep it;
-- session_sequence numbers the events within their session from 1. Email, order and social
-- events have no session. One sort per actor, no self-joins. The helper columns
-- (previous_occurred_at, actor_event_number, starts_session, session_first_number) stay for
-- inspection and tests.

{%- set inactivity = interval_minutes(30) %}

with

events as (
    select
        *,
        case when source_system = 'segment' then coalesce(
            case when not anonymous_id_blocked then 'anonymous_id:' || nullif(btrim(anonymous_id), '') end,
            case when not device_id_blocked then 'device_id:' || device_id end,
            case when not user_id_blocked then 'user_id:' || nullif(btrim(user_id), '') end
        ) end as session_actor
    from {{ ref('int_events_consented') }}
),

ordered as (
    -- events without an actor (email, orders, social, junk-only Segment calls) ride along in
    -- one partition and get no session below: cheaper than reading the view twice
    select
        *,
        lag(occurred_at) over actor_events as previous_occurred_at,
        row_number() over actor_events as actor_event_number
    from events
    window actor_events as (partition by session_actor order by occurred_at, source_record_id)
),

boundaries as (
    select
        *,
        case when session_actor is not null then
            previous_occurred_at is null or occurred_at - previous_occurred_at > {{ inactivity }}
        end as starts_session
    from ordered
),

numbered as (
    -- the latest session start at or before each event (a running max) is its session's start
    select
        *,
        max(case when starts_session then occurred_at end) over actor_running as session_started_at,
        max(case when starts_session then actor_event_number end) over actor_running as session_first_number
    from boundaries
    window actor_running as (
        partition by session_actor order by occurred_at, source_record_id
        rows between unbounded preceding and current row
    )
),

sessionized as (
    select
        *,
        case when session_actor is not null then
            {{ cast_as(deterministic_uuid(
                "session_actor || '|' || cast(" ~ epoch_seconds('session_started_at') ~ " * 1000000 as bigint)"
            ), 'text') }}
        end as session_id,
        case when session_actor is not null then
            cast(actor_event_number - session_first_number + 1 as integer)
        end as session_sequence
    from numbered
)

select * from sessionized
