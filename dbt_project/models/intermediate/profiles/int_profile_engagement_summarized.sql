-- An incremental table, one row per profile with events (an increment recomputes the profiles
-- whose events changed: macros/profile_changes.sql): engagement, content and email counts from
-- audience_events. One grouped pass for the event counts; sessions the profile took part in
-- (a shared device's session can hold events of the device's own profile and, once someone
-- logs in, of that person) counted as distinct (profile, session) pairs; emails opened and
-- clicked as distinct messages (a send's events share properties.message_key), without the
-- opens SendGrid flags as machine-generated (mail privacy proxies).
{{ config(**profile_table_config()) }}

with

-- read three times, each inlined (a shared copy of every event would cost more than three reads)

events as {{ cte_inlined() }} (
    select * from {{ profile_events() }}
    where profile_id is not null
),

event_counts as (
    select
        profile_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) filter (where event_type in ('page_view', 'screen_view')) as total_pageviews,
        count(*) as total_events,
        count(*) filter (where event_type = 'article_read') as articles_read,
        count(*) filter (where event_type = 'video_watched') as videos_watched,
        count(*) filter (where event_type = 'file_downloaded') as downloads,
        count(*) filter (where event_type = 'email_delivered') as emails_received,
        min(occurred_at) filter (
            where event_type = 'email_delivered' and {{ json_has_key('properties', 'campaign_id') }}
        ) as first_marketing_email_at
    from events
    group by profile_id
),

session_participation as (
    select profile_id, session_id
    from events
    where session_id is not null
    group by profile_id, session_id
),

profile_sessions as (
    select profile_id, count(*) as total_sessions
    from session_participation
    group by profile_id
),

email_messages as (
    select
        profile_id,
        {{ json_text('properties', 'message_key') }} as message_key,
        bool_or(
            event_type = 'email_open' and {{ json_text('properties', 'is_machine_open') }} is distinct from 'true'
        ) as opened,
        bool_or(event_type = 'email_click') as clicked
    from events
    where event_type in ('email_open', 'email_click')
    group by profile_id, {{ json_text('properties', 'message_key') }}
),

email_engagement as (
    select
        profile_id,
        count(*) filter (where opened) as emails_opened,
        count(*) filter (where clicked) as emails_clicked
    from email_messages
    group by profile_id
),

summarized as (
    select
        event_counts.*,
        coalesce(profile_sessions.total_sessions, 0) as total_sessions,
        coalesce(email_engagement.emails_opened, 0) as emails_opened,
        coalesce(email_engagement.emails_clicked, 0) as emails_clicked
    from event_counts
    left join profile_sessions on profile_sessions.profile_id = event_counts.profile_id
    left join email_engagement on email_engagement.profile_id = event_counts.profile_id
)

select * from summarized
