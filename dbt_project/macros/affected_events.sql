{#-
    The incremental build of audience_events: the events a refresh affects, recomputed with
    the full build's SQL (macros/event_pipeline.sql). Returns the CTEs (starting `with`, no
    final select) ending in `sessionized` (their new rows) and `scope_keys` (every event to
    replace: source_system, source_record_id, occurred_at). docs/incremental.md has the why.

      new_events           typed events past the checkpoint's load_seq (late ones included)
      changed_identifiers  identifiers whose profile, status or blocked flag differ from the
                           checkpoint's (merges, splits, new links, erasures, new junk)
      touched_profiles     profiles of new events, old and new profiles of changed identifiers
      touched_identifiers  changed ones, every identifier (then or now) of a touched profile,
                           and those new events carry
      seeds                every event carrying a touched identifier, and the new events
      actor_candidates     Segment events sharing an anonymous id, device or user id with a
                           seed; kept when their session actor is one a seed could have
                           (so every actor in the scope has all its events)
      consent_rows         every consent update, resolved (consent windows need all of a
                           person's, not only the affected ones)
      superseded           store orders a new Shopify order now stands for
-#}

{% macro event_id(relation) -%}
    {{ deterministic_uuid(relation ~ ".source_system || ':' || " ~ relation ~ ".source_record_id") }}
{%- endmacro %}

{% macro affected_events_sql(unioned, identifiers, store_orders) -%}
{%- set carried = event_identifier_expressions('events') %}
{%- set actor_values = [
    ('anonymous_id', "nullif(btrim(events.anonymous_id), '')"),
    ('device_id', 'events.device_id'),
    ('user_id', "nullif(btrim(events.user_id), '')"),
] %}
with

watermark as (
    {{ events_checkpoint_load_seq() }}
),

new_events as (
    select * from {{ unioned }}
    where load_seq > (select load_seq from watermark)
),

current_identifiers as (
    select identifier_type, identifier_value, profile_id, profile_status, blocked
    from {{ identifiers }}
),

previous_identifiers as (
    {{ events_checkpoint_identifiers(identifiers) }}
),

changed_identifiers as (
    select
        coalesce(current_identifiers.identifier_type, previous_identifiers.identifier_type) as identifier_type,
        coalesce(current_identifiers.identifier_value, previous_identifiers.identifier_value) as identifier_value,
        previous_identifiers.profile_id as previous_profile_id,
        current_identifiers.profile_id as current_profile_id
    from current_identifiers
    full join previous_identifiers
        on previous_identifiers.identifier_type = current_identifiers.identifier_type
        and previous_identifiers.identifier_value = current_identifiers.identifier_value
    where current_identifiers.profile_id is distinct from previous_identifiers.profile_id
       or current_identifiers.profile_status is distinct from previous_identifiers.profile_status
       or current_identifiers.blocked is distinct from previous_identifiers.blocked
),

new_resolved as (
    {{ resolve_events('new_events', identifiers) }}
),

touched_profiles as (
    select profile_id from new_resolved where profile_id is not null
    union
    select previous_profile_id from changed_identifiers where previous_profile_id is not null
    union
    select current_profile_id from changed_identifiers where current_profile_id is not null
),

touched_identifiers as (
    select identifier_type, identifier_value from changed_identifiers
    union
    select identifier_type, identifier_value from current_identifiers
    where profile_id in (select profile_id from touched_profiles)
    union
    select identifier_type, identifier_value from previous_identifiers
    where profile_id in (select profile_id from touched_profiles)
    {%- for identifier_type, expression in carried %}
    union
    select '{{ identifier_type }}', {{ expression }} from new_events as events where {{ expression }} is not null
    {%- endfor %}
),

seeds as (
    select events.*
    from {{ unioned }} as events
    where events.load_seq > (select load_seq from watermark)
    {%- for identifier_type, expression in carried %}
       or {{ expression }} in (
           select identifier_value from touched_identifiers where identifier_type = '{{ identifier_type }}'
       )
    {%- endfor %}
),

seed_actor_values as (
    {%- for kind, expression in actor_values %}
    select '{{ kind }}' as actor_kind, {{ expression }} as actor_value
    from seeds as events
    where events.source_system = 'segment' and {{ expression }} is not null
    {{ 'union' if not loop.last }}
    {%- endfor %}
),

actor_candidates as (
    select events.*
    from {{ unioned }} as events
    left join seeds
        on seeds.source_system = events.source_system
        and seeds.source_record_id = events.source_record_id
    where events.source_system = 'segment'
      and seeds.source_record_id is null
      and (
        {%- for kind, expression in actor_values %}
        {{ expression }} in (select actor_value from seed_actor_values where actor_kind = '{{ kind }}')
        {{ 'or' if not loop.last }}
        {%- endfor %}
      )
),

scope_events as (
    select *, true as is_seed from seeds
    union all
    select *, false as is_seed from actor_candidates
),

scope_resolved as (
    {{ resolve_events('scope_events', identifiers) }}
),

scope_actors as (
    select actor_kind || ':' || actor_value as session_actor from seed_actor_values
),

scope_kept as (
    select * from scope_resolved
    where is_seed or {{ event_session_actor() }} in (select session_actor from scope_actors)
),

consent_sources as (
    select * from {{ unioned }}
    where refuses_all_tracking is not null
),

consent_rows as (
    {{ resolve_events('consent_sources', identifiers) }}
),

consented as (
    {{ consent_events('scope_kept', 'consent_rows') }}
),

sessionized as (
    {{ sessionize_events('consented') }}
),

superseded as (
    select store.source_system, store.source_record_id, store.occurred_at
    from {{ store_orders }} as store
    inner join new_events
        on new_events.source_system = 'shopify'
        and new_events.source_record_id = store.shopify_order_id
),

scope_keys as (
    select source_system, source_record_id, occurred_at from seeds
    union
    select source_system, source_record_id, occurred_at from scope_kept
    union
    select source_system, source_record_id, occurred_at from superseded
)
{%- endmacro %}
