-- An incremental table, one row per profile: an increment recomputes only the profiles whose
-- events changed (macros/profile_changes.sql, docs/incremental.md §4).
{{ config(**profile_table_config()) }}

-- Basic info and location per profile, "latest known value wins": every value a source
-- states about a person is an observation (profile, attribute, value, when, source); per
-- attribute the latest observation wins, and on a tie the more trusted source:
--   1 Segment identify traits   2 Shopify customer record   3 store orders   4 social.
-- (Store order CSVs carry no names or addresses, so priority 3 has nothing to say today.)
-- City, state and country are one attribute, `location`, so an address is never stitched
-- together from different records. The time zone is the client's, from Segment calls.
-- Reads the audience_events mart (built once, partitioned), not the event views.

with

identify_calls as (
    select
        profile_id,
        occurred_at,
        nullif(btrim(coalesce({{ json_text('properties', 'firstName') }}, {{ json_text('properties', 'first_name') }})), '') as first_name,
        nullif(btrim(coalesce({{ json_text('properties', 'lastName') }}, {{ json_text('properties', 'last_name') }})), '') as last_name,
        nullif(btrim({{ json_text('properties', ['address', 'city']) }}), '') as city,
        nullif(btrim({{ json_text('properties', ['address', 'state']) }}), '') as state,
        nullif(btrim({{ json_text('properties', ['address', 'country']) }}), '') as country
    from {{ profile_events() }}
    where event_type = 'identify'
      and profile_id is not null
),

shopify_customers as (
    select
        profile_id,
        occurred_at,
        nullif(btrim({{ json_text('properties', ['customer', 'first_name']) }}), '') as first_name,
        nullif(btrim({{ json_text('properties', ['customer', 'last_name']) }}), '') as last_name,
        nullif(btrim({{ json_text('properties', ['customer', 'city']) }}), '') as city,
        nullif(btrim({{ json_text('properties', ['customer', 'province']) }}), '') as state,
        nullif(btrim({{ json_text('properties', ['customer', 'country_code']) }}), '') as country
    from {{ profile_events() }}
    where source_system = 'shopify'
      and profile_id is not null
      and {{ json_has_key('properties', 'customer') }}
),

social_handles as (
    select
        profile_id,
        max(occurred_at) as occurred_at,
        {{ json_text('properties', 'handle') }} as handle
    from {{ profile_events() }}
    where source = 'social'
      and profile_id is not null
    group by profile_id, {{ json_text('properties', 'handle') }}
),

time_zones as (
    select
        profile_id,
        max(occurred_at) as occurred_at,
        timezone
    from {{ profile_events() }}
    where timezone is not null
      and profile_id is not null
    group by profile_id, timezone
),

person_records as (
    select 1 as source_priority, * from identify_calls
    union all
    select 2 as source_priority, * from shopify_customers
),

observations as (
    select
        person_records.profile_id,
        person_records.occurred_at as observed_at,
        person_records.source_priority,
        attribute.name as attribute,
        attribute.value
    from person_records
    {{ unpivot_join('attribute', {
        'first_name': 'person_records.first_name',
        'last_name': 'person_records.last_name',
        'location': 'case when coalesce(person_records.city, person_records.state, person_records.country) is not null'
            ~ ' then ' ~ cast_as(json_object({
                'city': 'person_records.city',
                'state': 'person_records.state',
                'country': 'person_records.country',
            }), 'text') ~ ' end',
    }) }}
    where attribute.value is not null
    union all
    select profile_id, occurred_at, 4, 'social_handle', handle
    from social_handles
    union all
    select profile_id, occurred_at, 1, 'timezone', timezone
    from time_zones
),

latest as (
    {{ first_row_per_group(
        'profile_id, attribute', 'observed_at desc, source_priority, value',
        'profile_id, attribute, value', 'observations'
    ) }}
),

pivoted as (
    select
        profile_id,
        max(value) filter (where attribute = 'first_name') as first_name,
        max(value) filter (where attribute = 'last_name') as last_name,
        max({{ json_text(cast_as('value', 'json'), 'city') }}) filter (where attribute = 'location') as city,
        max({{ json_text(cast_as('value', 'json'), 'state') }}) filter (where attribute = 'location') as state,
        max({{ json_text(cast_as('value', 'json'), 'country') }}) filter (where attribute = 'location') as country,
        max(value) filter (where attribute = 'timezone') as timezone,
        max(value) filter (where attribute = 'social_handle') as social_handle
    from latest
    group by profile_id
)

select * from pivoted
