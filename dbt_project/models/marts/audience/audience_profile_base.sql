{#-
    pre_hook: every join below has one row per profile on each side, which hashing does in one
    pass; the planner would otherwise pick nested loops over thousands x thousands of rows
    (macros/sql_dialect.sql: prefer_hash_joins). post_hook: the spec's indexes, named as in the
    spec (see macros/spec_index.sql); the unique index on email is the spec's `email text UNIQUE`.
-#}
{{ config(
    materialized='table',
    pre_hook="{{ prefer_hash_joins() }}",
    post_hook=[
        "{{ spec_primary_key(['id']) }}",
        "{{ spec_index('idx_audience_profiles_email', ['email'], unique=true) }}",
        "{{ spec_index('idx_audience_profiles_last_seen', ['last_seen_at desc']) }}",
        "{{ spec_index('idx_audience_profiles_interests', ['interests'], method='gin') }}",
        "{{ spec_column_defaults() }}",
        "{{ analyze_relation() }}",
    ],
) }}

-- Everything the spec's audience_profiles holds except the scores and predictions: one row per
-- active profile that has at least one identifier. The view audience_profiles adds the scores
-- (marts.profile_scores, written by the scores asset) in the spec's columns. Each topic is an
-- intermediate table with one row per profile (intermediate/profiles/int_profile_*); this model
-- joins them and applies the spec's defaults.

with

-- every active profile that has at least one identifier, with its identity fields
identity as (
    select * from {{ ref('int_profile_identity_fields') }}
),

registry as (
    select * from {{ ref('stg_identity__profiles') }}
),

attributes as (
    select * from {{ ref('int_profile_attributes_latest') }}
),

preferences as (
    select * from {{ ref('int_profile_interests_ranked') }}
),

engagement as (
    select * from {{ ref('int_profile_engagement_summarized') }}
),

orders as (
    select * from {{ ref('int_profile_orders_summarized') }}
),

subscription as (
    select * from {{ ref('int_profile_subscription_latest') }}
),

consent as (
    select * from {{ ref('int_profile_consent_latest') }}
),

first_touch as (
    select * from {{ ref('int_profile_first_touch') }}
),

final as (
    select
        identity.profile_id as id,

        -- identity
        identity.email,
        identity.phone,
        coalesce(identity.external_ids, {{ json_empty_object() }}) as external_ids,

        -- basic info
        attributes.first_name,
        attributes.last_name,
        coalesce(
            nullif(concat_ws(' ', attributes.first_name, attributes.last_name), ''),
            attributes.social_handle
        ) as display_name,
        {{ cast_as('null', 'text') }} as avatar_url,

        -- location
        attributes.city,
        attributes.state,
        attributes.country,
        attributes.timezone,

        -- engagement summary
        coalesce(engagement.first_seen_at, identity.first_seen_at, registry.created_at, now())
            as first_seen_at,
        coalesce(engagement.last_seen_at, identity.last_seen_at, registry.created_at, now())
            as last_seen_at,
        cast(coalesce(engagement.total_sessions, 0) as integer) as total_sessions,
        cast(coalesce(engagement.total_pageviews, 0) as integer) as total_pageviews,
        cast(coalesce(engagement.total_events, 0) as integer) as total_events,

        -- content engagement
        cast(coalesce(engagement.articles_read, 0) as integer) as articles_read,
        cast(coalesce(engagement.videos_watched, 0) as integer) as videos_watched,
        cast(coalesce(engagement.downloads, 0) as integer) as downloads,

        -- email engagement
        coalesce(
            subscription.subscribes,
            engagement.first_marketing_email_at is not null
        ) as email_subscribed,
        case
            when subscription.subscribes then subscription.occurred_at
            when subscription.subscribes is null then engagement.first_marketing_email_at
        end as email_subscription_date,
        cast(coalesce(engagement.emails_received, 0) as integer) as emails_received,
        cast(coalesce(engagement.emails_opened, 0) as integer) as emails_opened,
        cast(coalesce(engagement.emails_clicked, 0) as integer) as emails_clicked,

        -- commerce
        cast(coalesce(orders.total_orders, 0) as integer) as total_orders,
        {{ spec_money('coalesce(orders.total_revenue, 0)') }} as total_revenue,
        {{ spec_money('orders.total_revenue / nullif(orders.total_orders, 0)') }}
            as average_order_value,
        orders.last_order_at,

        -- interests & preferences
        coalesce(preferences.interests, {{ empty_text_array() }}) as interests,
        coalesce(preferences.preferred_verticals, {{ empty_text_array() }}) as preferred_verticals,
        coalesce(preferences.preferred_content_types, {{ empty_text_array() }}) as preferred_content_types,
        coalesce(preferences.preferred_channels, {{ empty_text_array() }}) as preferred_channels,

        -- acquisition (first touch)
        first_touch.source as acquisition_source,
        first_touch.campaign as acquisition_campaign,
        first_touch.occurred_at as acquisition_date,

        -- privacy
        coalesce(consent.grants_any, false) as gdpr_consent,
        case when consent.grants_any then consent.occurred_at end as gdpr_consent_date,
        coalesce(consent.refuses_all, false) as do_not_track,

        coalesce(registry.created_at, identity.first_seen_at, now()) as created_at,
        now() as updated_at

    from identity
    left join registry on registry.profile_id = identity.profile_id
    left join attributes on attributes.profile_id = identity.profile_id
    left join preferences on preferences.profile_id = identity.profile_id
    left join engagement on engagement.profile_id = identity.profile_id
    left join orders on orders.profile_id = identity.profile_id
    left join subscription on subscription.profile_id = identity.profile_id
    left join consent on consent.profile_id = identity.profile_id
    left join first_touch on first_touch.profile_id = identity.profile_id
)

select * from final
