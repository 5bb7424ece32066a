{{ config(
    materialized='partitioned_table',
    partition_by='occurred_at',
    incremental=true,
    incremental_checkpoint='events_checkpoint_relations',
    profile_change_log=true,
    named_indexes=[
        {'name': 'idx_audience_events_id', 'columns': ['id', 'occurred_at'], 'unique': true},
        {'name': 'idx_audience_events_profile', 'columns': ['profile_id']},
        {'name': 'idx_audience_events_anonymous', 'columns': ['anonymous_id']},
        {'name': 'idx_audience_events_type', 'columns': ['event_type']},
        {'name': 'idx_audience_events_occurred', 'columns': ['occurred_at desc']},
        {'name': 'idx_audience_events_session', 'columns': ['session_id']},
    ],
    analyze_columns=['id', 'profile_id', 'anonymous_id', 'event_type', 'source', 'session_id', 'occurred_at'],
    post_hook=[
        "{{ spec_column_defaults() }}",
        "{{ record_events_checkpoint([
            ref('int_events_from_segment'), ref('int_events_from_sendgrid'), ref('int_events_from_shopify'),
            ref('int_events_from_store'), ref('int_events_from_social'),
        ], ref('int_identifiers_resolved')) }}",
    ],
) }}

-- The spec's audience_events: every event of every touchpoint with the profile it belongs
-- to, partitioned by month of occurred_at. Columns in the spec's order, then the lineage
-- columns this project adds.
--
-- A full build (the first, or --full-refresh) reads int_events_sessionized. An incremental
-- build recomputes only the affected events (macros/event_pipeline.sql over them) and the
-- materialization replaces them: _scope_id / _scope_occurred_at name every event recomputed,
-- the other columns are its new row, null when it is gone (docs/incremental.md).
-- depends_on: {{ ref('int_events_from_segment') }} {{ ref('int_events_from_sendgrid') }}
-- depends_on: {{ ref('int_events_from_shopify') }} {{ ref('int_events_from_store') }}
-- depends_on: {{ ref('int_events_from_social') }} {{ ref('int_identifiers_resolved') }} {{ ref('int_events_unioned') }}

{%- set final_columns %}
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
{%- endset %}

{% if partitioned_is_incremental() %}
{{ affected_events_sql(ref('int_events_unioned'), ref('int_identifiers_resolved'), ref('int_events_from_store')) }},

final as (
    select
{{ final_columns }}
    from sessionized as events
)

select
    {{ event_id('scope_keys') }} as _scope_id,
    scope_keys.occurred_at as _scope_occurred_at,
    final.*
from scope_keys
left join final on final.id = {{ event_id('scope_keys') }}

{% else %}
with

events as (
    select * from {{ ref('int_events_sessionized') }}
),

final as (
    select
{{ final_columns }}
    from events
)

select * from final
{% endif %}
