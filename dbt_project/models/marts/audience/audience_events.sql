{{ config(
    materialized='partitioned_table',
    partition_by='occurred_at',
    named_indexes=[
        {'name': 'idx_audience_events_id', 'columns': ['id', 'occurred_at'], 'unique': true},
        {'name': 'idx_audience_events_profile', 'columns': ['profile_id']},
        {'name': 'idx_audience_events_anonymous', 'columns': ['anonymous_id']},
        {'name': 'idx_audience_events_type', 'columns': ['event_type']},
        {'name': 'idx_audience_events_occurred', 'columns': ['occurred_at desc']},
        {'name': 'idx_audience_events_session', 'columns': ['session_id']},
    ],
    analyze_columns=['id', 'profile_id', 'anonymous_id', 'event_type', 'source', 'session_id', 'occurred_at'],
    post_hook="{{ spec_column_defaults() }}",
) }}

-- The spec's audience_events: every event of every touchpoint with the profile it belongs
-- to, partitioned by month of occurred_at. Columns in the spec's order, then the lineage
-- columns this project adds.

with

events as (
    select * from {{ ref('int_events_sessionized') }}
),

final as (
    select
        {{ deterministic_uuid("source_system || ':' || source_record_id") }} as id,
        profile_id,
        anonymous_id,
        event_type,
        event_name,
        page_url,
        page_title,
        referrer,
        properties,
        content_id,
        product_id,
        source,
        campaign,
        medium,
        device_type,
        browser,
        os,
        ip_address,
        country,
        city,
        session_id,
        session_sequence,
        revenue,
        occurred_at,
        loaded_at as created_at,
        -- beyond the spec
        timezone,
        user_id,
        source_system,
        source_record_id,
        profile_resolved_by
    from events
)

select * from final
