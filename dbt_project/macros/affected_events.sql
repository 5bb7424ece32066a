{#-
    The incremental build of audience_events: the events a refresh affects, recomputed with
    the full build's SQL (macros/event_pipeline.sql). Returns the CTEs (starting `with`, no
    final select) ending in `sessionized` (their new rows) and `scope_keys` (every event to
    replace: source_system, source_record_id, occurred_at). docs/incremental.md has the why.

      changed_identifiers  identifiers whose profile, status or blocked flag differ from the
                           checkpoint's (merges, splits, new links, erasures, new junk)
      consent_persons      persons (then and now) of consent updates new or carrying a changed
                           identifier: their opt-out windows can change
      seeds                new events (late ones included), events carrying a changed
                           identifier, every event of a consent person
      actor_bounds         per actor value of a seed: the latest time at or before its first
                           change more than 30 minutes after every earlier event carrying it
                           (a session boundary in the old build and the new one)
      actor_candidates     Segment events of a seed's actor from the actor's bound on
      consent_rows         every consent update, resolved (consent windows need all of a
                           person's, not only the affected ones)
      superseded           store orders a new Shopify order now stands for
-#}

{% macro event_id(relation) -%}
    {{ deterministic_uuid(relation ~ ".source_system || ':' || " ~ relation ~ ".source_record_id") }}
{%- endmacro %}

{#- An event (`events`) carries one of the identifiers in `identifiers` (a CTE with
    identifier_type, identifier_value). -#}
{% macro carries_identifier_in(identifiers) -%}
    (
    {%- for identifier_type, expression in event_identifier_expressions('events') %}
        {{ 'or ' if not loop.first }}{{ expression }} in (
            select identifier_value from {{ identifiers }} where identifier_type = '{{ identifier_type }}'
        )
    {%- endfor %}
    )
{%- endmacro %}

{% macro affected_events_sql(unioned, identifiers, store_orders) -%}
{%- set actor_values = [
    ('anonymous_id', "nullif(btrim(events.anonymous_id), '')"),
    ('device_id', 'events.device_id'),
    ('user_id', "nullif(btrim(events.user_id), '')"),
] %}
{#- the lookups use the identifier expressions the tables are indexed on
    (event_lookup_expressions): an actor value is never empty, so btrim(x) = value is
    nullif(btrim(x), '') = value -#}
{%- set actor_lookups = dict(event_identifier_expressions('events')) %}
{%- set actor_columns -%}
    events.source_record_id, events.occurred_at
    {%- for kind, expression in actor_values %}, {{ expression }} as {{ kind }}{% endfor %}
{%- endset %}
{%- set event_key_columns = 'events.source_system, events.source_record_id' %}
{%- set checkpoint_identifiers = events_checkpoint_relations()['identifiers'] %}
{%- set watermark = events_checkpoint_load_seq() %}
with

current_identifiers as (
    -- computed once (read many times). The scope is resolved against it rather than the view,
    -- which joins the profile registry three times at each read (at 200k people 8 s of 61);
    -- the consent updates are not: with this CTE's estimates the planner sized the hash of
    -- their 771 opt-outs for millions of rows (16M batches, 25 s)
    select identifier_type, identifier_value, profile_id, profile_status, blocked
    from {{ identifiers }}
),

previous_identifiers as (
    {{ events_checkpoint_identifiers(identifiers) }}
),

changed_identifiers as (
    select
        coalesce(current_identifiers.identifier_type, previous_identifiers.identifier_type) as identifier_type,
        coalesce(current_identifiers.identifier_value, previous_identifiers.identifier_value) as identifier_value
    from current_identifiers
    full join previous_identifiers
        on previous_identifiers.identifier_type = current_identifiers.identifier_type
        and previous_identifiers.identifier_value = current_identifiers.identifier_value
    where current_identifiers.profile_id is distinct from previous_identifiers.profile_id
       or current_identifiers.profile_status is distinct from previous_identifiers.profile_status
       or current_identifiers.blocked is distinct from previous_identifiers.blocked
),

consent_sources as (
    select * from {{ unioned }}
    where refuses_all_tracking is not null
),

consent_rows as (
    {{ resolve_events('consent_sources', identifiers) }}
),

changed_consent_updates as (
    select events.* from consent_sources as events
    where events.load_seq > {{ watermark }}
       or {{ carries_identifier_in('changed_identifiers') }}
),

old_consent_updates as (
    select * from changed_consent_updates
    where load_seq <= {{ watermark }}
),

consent_updates_now as (
    {{ resolve_events('changed_consent_updates', identifiers) }}
),

consent_updates_then as (
    {{ resolve_events('old_consent_updates', checkpoint_identifiers) }}
),

consent_persons as (
    select {{ event_person_key() }} as person_key from consent_updates_now
    union
    select {{ event_person_key() }} from consent_updates_then
),

consent_person_identifiers as (
    select identifier_type, identifier_value from current_identifiers
    where {{ cast_as('profile_id', 'text') }} in (select person_key from consent_persons)
    union
    select identifier_type, identifier_value from previous_identifiers
    where {{ cast_as('profile_id', 'text') }} in (select person_key from consent_persons)
),

seed_identifiers as (
    select identifier_type, identifier_value from changed_identifiers
    union
    select identifier_type, identifier_value from consent_person_identifiers
),

seed_keys as (
    -- new events, events carrying a changed identifier or one of a consent person, events of a
    -- consent person known by anonymous id (a superset is fine: recomputed, an unchanged row is
    -- not written): one index lookup per value
    select events.source_system, events.source_record_id
    from {{ unioned }} as events
    where events.load_seq > {{ watermark }}
    {%- for identifier_type, expression in event_identifier_expressions('events') %}
    union
    {{ select_where_value_in(unioned, event_key_columns, expression,
        "select identifier_value from seed_identifiers where identifier_type = '" ~ identifier_type ~ "'") }}
    {%- endfor %}
    union
    {{ select_where_value_in(unioned, event_key_columns, 'btrim(events.anonymous_id)',
        "select distinct btrim(substr(person_key, 14)) from consent_persons where substr(person_key, 1, 13) = 'anonymous_id:'") }}
),

seeds as (
    {{ select_where_key_in(unioned, 'seed_keys') }}
),

seed_actor_times as (
    {%- for kind, expression in actor_values %}
    select '{{ kind }}' as actor_kind, {{ expression }} as actor_value, occurred_at
    from seeds as events
    where events.source_system = 'segment' and {{ expression }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

seed_actor_values as (
    -- a value blocked now and at the checkpoint is no event's actor
    select seed_actor_times.actor_kind, seed_actor_times.actor_value, min(seed_actor_times.occurred_at) as changed_from
    from seed_actor_times
    left join current_identifiers as now_known
        on now_known.identifier_type = seed_actor_times.actor_kind
        and now_known.identifier_value = seed_actor_times.actor_value
    left join previous_identifiers as then_known
        on then_known.identifier_type = seed_actor_times.actor_kind
        and then_known.identifier_value = seed_actor_times.actor_value
    where not (coalesce(now_known.blocked, false) and coalesce(then_known.blocked, false))
    group by seed_actor_times.actor_kind, seed_actor_times.actor_value
),

actor_rows as (
    -- every Segment event carrying a seed's actor value, in any role: its key and time
    {%- for kind, expression in actor_values %}
    {{ 'union' if not loop.first }}
    {{ select_where_value_in(unioned, actor_columns, actor_lookups[kind],
        "select actor_value from seed_actor_values where actor_kind = '" ~ kind ~ "'",
        "events.source_system = 'segment'") }}
    {%- endfor %}
),

actor_history as (
    {%- for kind, _ in actor_values %}
    select actor_rows.source_record_id, actor_rows.occurred_at, values.actor_kind, values.actor_value, values.changed_from
    from actor_rows
    inner join seed_actor_values as values
        on values.actor_kind = '{{ kind }}' and values.actor_value = actor_rows.{{ kind }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

actor_gaps as (
    select
        *,
        lag(occurred_at) over (partition by actor_kind, actor_value order by occurred_at) as previous_at
    from actor_history
),

actor_bounds as (
    -- per actor value, the latest time at or before its first change that comes more than the
    -- session gap after every earlier event carrying the value: a session starts there in the
    -- old build and the new one, so sessions are recomputed from there on
    select actor_kind || ':' || actor_value as session_actor, max(occurred_at) as recompute_from
    from actor_gaps
    where occurred_at <= changed_from
      and (previous_at is null or occurred_at - previous_at > {{ interval_minutes(30) }})
    group by actor_kind, actor_value
),

actor_scope as (
    select distinct actor_history.source_record_id
    from actor_history
    inner join actor_bounds
        on actor_bounds.session_actor = actor_history.actor_kind || ':' || actor_history.actor_value
    where actor_history.occurred_at >= actor_bounds.recompute_from
),

actor_candidate_keys as (
    select 'segment' as source_system, actor_scope.source_record_id
    from actor_scope
    left join seed_keys
        on seed_keys.source_system = 'segment'
        and seed_keys.source_record_id = actor_scope.source_record_id
    where seed_keys.source_record_id is null
),

actor_candidates as (
    {{ select_where_key_in(unioned, 'actor_candidate_keys') }}
),

scope_events as (
    select *, true as is_seed from seeds
    union all
    select *, false as is_seed from actor_candidates
),

scope_resolved as (
    select *, {{ event_session_actor() }} as scope_actor
    from ({{ resolve_events('scope_events', 'current_identifiers') }}) as resolved
),

scope_kept as (
    -- seeds, and every event of their actors from the actor's bound on
    select scope_resolved.*
    from scope_resolved
    left join actor_bounds on actor_bounds.session_actor = scope_resolved.scope_actor
    where scope_resolved.is_seed or scope_resolved.occurred_at >= actor_bounds.recompute_from
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
    inner join {{ unioned }} as new_events
        on new_events.source_system = 'shopify'
        and new_events.source_record_id = store.shopify_order_id
    where new_events.load_seq > {{ watermark }}
),

scope_keys as (
    select source_system, source_record_id, occurred_at from seeds
    union
    select source_system, source_record_id, occurred_at from scope_kept
    union
    select source_system, source_record_id, occurred_at from superseded
)
{%- endmacro %}
