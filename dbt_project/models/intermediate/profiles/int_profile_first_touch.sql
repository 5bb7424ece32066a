-- An incremental table, one row per profile with events (an increment recomputes the profiles
-- whose events changed: macros/profile_changes.sql): acquisition, the profile's first event (source, campaign,
-- when).
{{ config(**profile_table_config()) }}

with

first_touch as (
    {{ first_row_per_group(
        'profile_id', 'occurred_at, id',
        'profile_id, source, campaign, occurred_at',
        profile_events(),
        'profile_id is not null'
    ) }}
)

select * from first_touch
