-- An incremental table, one row per profile with a consent update (an increment recomputes
-- the profiles whose events changed: macros/profile_changes.sql): the latest
-- `Segment Consent Preference Updated` decides. grants_any: some category is granted (GDPR
-- consent); refuses_all: every category is refused (do not track).
{{ config(**profile_table_config()) }}

with

latest_update as (
    {{ first_row_per_group(
        'profile_id', 'occurred_at desc, id',
        "profile_id, occurred_at, " ~ json_get('properties', 'categoryPreferences') ~ " as preferences",
        profile_events(),
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
