-- A table, one row per profile with a consent update (it survives the rebuild of
-- audience_events, which drops the views that depend on it): the latest
-- `Segment Consent Preference Updated` decides. grants_any: some category is granted (GDPR
-- consent); refuses_all: every category is refused (do not track).
{{ config(materialized='table') }}

with

latest_update as (
    {{ first_row_per_group(
        'profile_id', 'occurred_at desc, id',
        "profile_id, occurred_at, " ~ json_get('properties', 'categoryPreferences') ~ " as preferences",
        ref('audience_events'),
        "event_type = 'segment_consent_preference_updated' and "
        ~ json_type(json_get('properties', 'categoryPreferences')) ~ " = 'object' and profile_id is not null"
    ) }}
),

flags as (
    select
        profile_id,
        occurred_at,
        {{ json_any_value_true('preferences') }} as grants_any,
        preferences <> {{ json_empty_object() }} and not {{ json_any_value_true('preferences') }} as refuses_all
    from latest_update
)

select * from flags
