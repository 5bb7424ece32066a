-- A table, one row per profile with events (it survives the rebuild of audience_events, which
-- drops the views that depend on it): acquisition, the profile's first event (source, campaign,
-- when).
{{ config(materialized='table') }}

with

first_touch as (
    {{ first_row_per_group(
        'profile_id', 'occurred_at, id',
        'profile_id, source, campaign, occurred_at',
        ref('audience_events'),
        'profile_id is not null'
    ) }}
)

select * from first_touch
