{#-
    pre_hook: every join below has one row per profile on each side, which hashing does in one
    pass. The planner cannot know that (grouped views estimate 200 rows) and would otherwise
    pick nested loops over thousands x thousands of rows. SET LOCAL ends with the transaction.
    post_hook: the spec's indexes, named as in the spec (see macros/spec_index.sql); the
    unique index on email is the spec's `email text UNIQUE`.
-#}
{{ config(
    materialized='table',
    pre_hook="set local enable_nestloop = off",
    post_hook=[
        "{{ spec_primary_key('id') }}",
        "{{ spec_index('idx_audience_profiles_email', '(email)', unique=true) }}",
        "{{ spec_index('idx_audience_profiles_last_seen', '(last_seen_at desc)') }}",
        "{{ spec_index('idx_audience_profiles_interests', 'using gin (interests)') }}",
        "{{ spec_column_defaults() }}",
        "analyze {{ this }}",
    ],
) }}

-- Everything the spec's audience_profiles holds except the scores and predictions: one row per
-- active profile that has at least one identifier. The view audience_profiles adds the scores
-- (marts.profile_scores, written by the scores asset) in the spec's columns. Set-based: one grouped pass over audience_events for the counts
-- (FILTER clauses), small DISTINCT ON passes over the few event types that need "the latest"
-- or "the first", the identity map for identifiers.

with

registry as (
    select * from {{ ref('stg_identity__profiles') }}
),

attributes as (
    select * from {{ ref('int_profile_attributes_latest') }}
),

preferences as (
    select * from {{ ref('int_profile_interests_ranked') }}
),

-- CTEs are read once each (the identifiers view three times, on purpose): inlined, the
-- planner keeps row estimates from the tables' statistics and joins by hashing.

-- identity: per profile and identifier type (per platform for social handles), the latest
-- seen value
profile_identifiers as (
    select
        profile_id,
        identifier_type,
        identifier_value,
        last_seen_at,
        case when identifier_type = 'social_handle' then split_part(identifier_value, ':', 1) end as platform
    from {{ ref('int_identifiers_resolved') }}
    where profile_id is not null
),

latest_identifiers as (
    select distinct on (profile_id, identifier_type, platform)
        profile_id,
        identifier_type,
        platform,
        identifier_value
    from profile_identifiers
    order by profile_id, identifier_type, platform, last_seen_at desc nulls last, identifier_value
),

identity as (
    select
        profile_id,
        max(identifier_value) filter (where identifier_type = 'email') as email,
        max(identifier_value) filter (where identifier_type = 'phone') as phone,
        jsonb_strip_nulls(jsonb_build_object(
            'shopify_id', max(identifier_value) filter (where identifier_type = 'shopify_customer_id'),
            'email_provider_id', max(identifier_value) filter (where identifier_type = 'email_provider_id'),
            'user_id', max(identifier_value) filter (where identifier_type = 'user_id'),
            'stripe_id', max(identifier_value) filter (where identifier_type = 'stripe_customer_id'),
            'social', jsonb_object_agg(platform, substr(identifier_value, length(platform) + 2))
                filter (where identifier_type = 'social_handle')
        )) as external_ids
    from latest_identifiers
    group by profile_id
),

identifier_span as (
    select
        profile_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from {{ ref('int_identifiers_resolved') }}
    where profile_id is not null
    group by profile_id
),

-- engagement, content, email receipt and commerce: one pass
event_summary as (
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
            where event_type = 'email_delivered' and properties ? 'campaign_id'
        ) as first_marketing_email_at,
        count(*) filter (where event_type = 'purchase') as total_orders,
        sum(revenue) filter (where event_type = 'purchase') as total_revenue,
        max(occurred_at) filter (where event_type = 'purchase') as last_order_at
    from {{ ref('audience_events') }}
    where profile_id is not null
    group by profile_id
),

-- sessions the profile took part in (a shared device's session can hold events of the device's
-- own profile and, once someone logs in, of that person): distinct (profile, session) pairs
-- by hashing, then counted
session_participation as (
    select profile_id, session_id
    from {{ ref('audience_events') }}
    where profile_id is not null
      and session_id is not null
    group by profile_id, session_id
),

profile_sessions as (
    select profile_id, count(*) as total_sessions
    from session_participation
    group by profile_id
),

-- opened / clicked: distinct messages (a send's events share properties.message_key);
-- opens SendGrid flags as machine-generated (mail privacy proxies) are not counted
email_messages as (
    select
        profile_id,
        properties ->> 'message_key' as message_key,
        bool_or(event_type = 'email_open' and properties ->> 'is_machine_open' is distinct from 'true') as opened,
        bool_or(event_type = 'email_click') as clicked
    from {{ ref('audience_events') }}
    where event_type in ('email_open', 'email_click')
      and profile_id is not null
    group by profile_id, properties ->> 'message_key'
),

email_engagement as (
    select
        profile_id,
        count(*) filter (where opened) as emails_opened,
        count(*) filter (where clicked) as emails_clicked
    from email_messages
    group by profile_id
),

-- subscription: the latest explicit signal wins (Segment 'Email Subscribed', SendGrid
-- group_resubscribe; SendGrid unsubscribe, group_unsubscribe, spamreport, Segment 'Email
-- Unsubscribed'); without any, a delivered marketing campaign means subscribed since then
subscription_signals as (
    select distinct on (profile_id)
        profile_id,
        occurred_at,
        event_type in ('email_subscribed', 'email_group_resubscribe') as subscribes
    from {{ ref('audience_events') }}
    where event_type in (
        'email_subscribed', 'email_group_resubscribe',
        'email_unsubscribe', 'email_group_unsubscribe', 'email_spamreport', 'email_unsubscribed'
    )
      and profile_id is not null
    order by profile_id, occurred_at desc, id
),

-- privacy: the latest consent update decides
consent as (
    select distinct on (profile_id)
        profile_id,
        occurred_at,
        properties -> 'categoryPreferences' as preferences
    from {{ ref('audience_events') }}
    where event_type = 'segment_consent_preference_updated'
      and jsonb_typeof(properties -> 'categoryPreferences') = 'object'
      and profile_id is not null
    order by profile_id, occurred_at desc, id
),

consent_flags as (
    select
        profile_id,
        occurred_at,
        jsonb_path_exists(preferences, '$.* ? (@ == true)') as grants_any,
        preferences <> '{}'::jsonb and not jsonb_path_exists(preferences, '$.* ? (@ == true)') as refuses_all
    from consent
),

-- acquisition: the first touch
first_touch as (
    select distinct on (profile_id)
        profile_id,
        source,
        campaign,
        occurred_at
    from {{ ref('audience_events') }}
    where profile_id is not null
    order by profile_id, occurred_at, id
),

-- the profiles: every active profile that has at least one identifier
profiles as (
    select distinct profile_id
    from {{ ref('int_identifiers_resolved') }}
    where profile_id is not null
),

final as (
    select
        profiles.profile_id as id,

        -- identity
        identity.email,
        identity.phone,
        coalesce(identity.external_ids, '{}'::jsonb) as external_ids,

        -- basic info
        attributes.first_name,
        attributes.last_name,
        coalesce(
            nullif(concat_ws(' ', attributes.first_name, attributes.last_name), ''),
            attributes.social_handle
        ) as display_name,
        cast(null as text) as avatar_url,

        -- location
        attributes.city,
        attributes.state,
        attributes.country,
        attributes.timezone,

        -- engagement summary
        coalesce(event_summary.first_seen_at, identifier_span.first_seen_at, registry.created_at, now())
            as first_seen_at,
        coalesce(event_summary.last_seen_at, identifier_span.last_seen_at, registry.created_at, now())
            as last_seen_at,
        cast(coalesce(profile_sessions.total_sessions, 0) as integer) as total_sessions,
        cast(coalesce(event_summary.total_pageviews, 0) as integer) as total_pageviews,
        cast(coalesce(event_summary.total_events, 0) as integer) as total_events,

        -- content engagement
        cast(coalesce(event_summary.articles_read, 0) as integer) as articles_read,
        cast(coalesce(event_summary.videos_watched, 0) as integer) as videos_watched,
        cast(coalesce(event_summary.downloads, 0) as integer) as downloads,

        -- email engagement
        coalesce(
            subscription_signals.subscribes,
            event_summary.first_marketing_email_at is not null
        ) as email_subscribed,
        case
            when subscription_signals.subscribes then subscription_signals.occurred_at
            when subscription_signals.subscribes is null then event_summary.first_marketing_email_at
        end as email_subscription_date,
        cast(coalesce(event_summary.emails_received, 0) as integer) as emails_received,
        cast(coalesce(email_engagement.emails_opened, 0) as integer) as emails_opened,
        cast(coalesce(email_engagement.emails_clicked, 0) as integer) as emails_clicked,

        -- commerce
        cast(coalesce(event_summary.total_orders, 0) as integer) as total_orders,
        {{ spec_money('coalesce(event_summary.total_revenue, 0)') }} as total_revenue,
        {{ spec_money('event_summary.total_revenue / nullif(event_summary.total_orders, 0)') }}
            as average_order_value,
        event_summary.last_order_at,

        -- interests & preferences
        coalesce(preferences.interests, '{}') as interests,
        coalesce(preferences.preferred_verticals, '{}') as preferred_verticals,
        coalesce(preferences.preferred_content_types, '{}') as preferred_content_types,
        coalesce(preferences.preferred_channels, '{}') as preferred_channels,

        -- acquisition (first touch)
        first_touch.source as acquisition_source,
        first_touch.campaign as acquisition_campaign,
        first_touch.occurred_at as acquisition_date,

        -- privacy
        coalesce(consent_flags.grants_any, false) as gdpr_consent,
        case when consent_flags.grants_any then consent_flags.occurred_at end as gdpr_consent_date,
        coalesce(consent_flags.refuses_all, false) as do_not_track,

        coalesce(registry.created_at, identifier_span.first_seen_at, now()) as created_at,
        now() as updated_at

    from profiles
    left join registry on registry.profile_id = profiles.profile_id
    left join identity on identity.profile_id = profiles.profile_id
    left join identifier_span on identifier_span.profile_id = profiles.profile_id
    left join attributes on attributes.profile_id = profiles.profile_id
    left join preferences on preferences.profile_id = profiles.profile_id
    left join event_summary on event_summary.profile_id = profiles.profile_id
    left join profile_sessions on profile_sessions.profile_id = profiles.profile_id
    left join email_engagement on email_engagement.profile_id = profiles.profile_id
    left join subscription_signals on subscription_signals.profile_id = profiles.profile_id
    left join consent_flags on consent_flags.profile_id = profiles.profile_id
    left join first_touch on first_touch.profile_id = profiles.profile_id
)

select * from final
