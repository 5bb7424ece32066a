{#-
    The event pipeline after the union, as macros over any set of events, so the full build
    (the int_events_resolved / _consented / _sessionized views over every event) and the
    incremental build of audience_events (the same steps over the affected events only,
    docs/incremental.md) run the same SQL. Each macro returns one SELECT (with its own CTEs)
    over `events`, a relation or the name of a CTE in scope, with int_events_unioned's columns.
-#}

{#- The identifiers an event carries, in resolution priority: (identifier type, expression).
    `events`: the alias the expressions name (none: bare column names, for index definitions). -#}
{% macro event_identifier_expressions(events='events') -%}
    {%- set e = events ~ '.' if events else '' -%}
    {{ return([
        ('user_id', 'btrim(' ~ e ~ 'user_id)'),
        ('email', e ~ 'email'),
        ('shopify_customer_id', e ~ 'shopify_customer_id'),
        ('email_provider_id', e ~ 'email_provider_id'),
        ('social_handle', e ~ 'social_handle'),
        ('shopify_order_id', e ~ 'shopify_order_id'),
        ('anonymous_id', 'btrim(' ~ e ~ 'anonymous_id)'),
        ('device_id', e ~ 'device_id'),
    ]) }}
{%- endmacro %}

{#- The session actor of a Segment event (anonymous id, else device id, else user id; blocked
    junk ids never count); null for every other source. -#}
{% macro event_session_actor() -%}
    case when source_system = 'segment' then coalesce(
        case when not anonymous_id_blocked then 'anonymous_id:' || nullif(btrim(anonymous_id), '') end,
        case when not device_id_blocked then 'device_id:' || device_id end,
        case when not user_id_blocked then 'user_id:' || nullif(btrim(user_id), '') end
    ) end
{%- endmacro %}

{#- The person consent applies to: the resolved profile, else the (non-blocked) anonymous id. -#}
{% macro event_person_key() -%}
    coalesce(
        {{ cast_as('profile_id', 'text') }},
        case when not anonymous_id_blocked then 'anonymous_id:' || anonymous_id end
    )
{%- endmacro %}

{#- Each event's profile from `identifiers` (int_identifiers_resolved): the first identifier, in
    priority order, the map knows with a (non-blocked) profile decides. Events whose deciding
    profile is erased are dropped. -#}
{% macro resolve_events(events, identifiers) -%}
{%- set priorities = event_identifier_expressions('events') %}
    with

    events as (
        select * from {{ events }}
    ),

    -- one lookup per identifier type, each reading the identifiers itself (not a shared CTE):
    -- inlined, the planner sees the map's statistics and hashes each small lookup once
    {% for identifier_type, _ in priorities %}
    by_{{ identifier_type }} as (
        select identifier_value, profile_id, profile_status, blocked
        from {{ identifiers }}
        where identifier_type = '{{ identifier_type }}'
    ),
    {% endfor %}

    looked_up as (
        select
            events.*,
            case
            {%- for identifier_type, _ in priorities %}
                when by_{{ identifier_type }}.profile_status is not null then '{{ identifier_type }}'
            {%- endfor %}
            end as profile_resolved_by,
            case
            {%- for identifier_type, _ in priorities %}
                when by_{{ identifier_type }}.profile_status is not null then by_{{ identifier_type }}.profile_status
            {%- endfor %}
            end as profile_status,
            case
            {%- for identifier_type, _ in priorities %}
                when by_{{ identifier_type }}.profile_status is not null then by_{{ identifier_type }}.profile_id
            {%- endfor %}
            end as profile_id,
            coalesce(by_anonymous_id.blocked, false) as anonymous_id_blocked,
            coalesce(by_user_id.blocked, false) as user_id_blocked,
            coalesce(by_device_id.blocked, false) as device_id_blocked
        from events
        {%- for identifier_type, expression in priorities %}
        left join by_{{ identifier_type }}
            on by_{{ identifier_type }}.identifier_value = {{ expression }}
        {%- endfor %}
    )

    select * from looked_up
    where profile_status is distinct from 'erased'
{%- endmacro %}

{#- Do-not-track: behavioural events of `events` inside an opt-out window of their person are
    dropped. The windows come from `consent_updates` (resolved events; only the rows with
    refuses_all_tracking set are read): every consent update of the person, not only those in
    `events`. -#}
{% macro consent_events(events, consent_updates) -%}
    with

    events as (
        select *, {{ event_person_key() }} as person_key
        from {{ events }}
    ),

    consent_updates as (
        select
            {{ event_person_key() }} as person_key,
            occurred_at,
            refuses_all_tracking,
            lead(occurred_at) over (
                partition by {{ event_person_key() }} order by occurred_at, source_record_id
            ) as next_update_at
        from {{ consent_updates }}
        where refuses_all_tracking is not null
          and {{ event_person_key() }} is not null
    ),

    opt_outs as (
        select
            person_key,
            occurred_at as opted_out_at,
            next_update_at as opted_in_at
        from consent_updates
        where refuses_all_tracking
    )

    -- anti-join: windows of one person never overlap, so an event matches at most one
    select events.*
    from events
    left join opt_outs
        on events.is_behavioural
        and opt_outs.person_key = events.person_key
        and events.occurred_at > opt_outs.opted_out_at
        and (opt_outs.opted_in_at is null or events.occurred_at < opt_outs.opted_in_at)
    where opt_outs.person_key is null
{%- endmacro %}

{#- Sessions of `events` (consented): per actor, ordered by time, a new session after 30
    minutes without an event. Every event of an actor must be in `events`, or every one from a
    session start on (the incremental build's actor bounds, macros/affected_events.sql). -#}
{% macro sessionize_events(events) -%}
{%- set inactivity = interval_minutes(30) %}
    with

    events as (
        select *, {{ event_session_actor() }} as session_actor
        from {{ events }}
    ),

    ordered as (
        -- events without an actor (email, orders, social, junk-only Segment calls) ride along in
        -- one partition and get no session below: cheaper than reading the events twice
        select
            *,
            lag(occurred_at) over actor_events as previous_occurred_at,
            row_number() over actor_events as actor_event_number
        from events
        window actor_events as (partition by session_actor order by occurred_at, source_record_id)
    ),

    boundaries as (
        select
            *,
            case when session_actor is not null then
                previous_occurred_at is null or occurred_at - previous_occurred_at > {{ inactivity }}
            end as starts_session
        from ordered
    ),

    numbered as (
        -- the latest session start at or before each event (a running max) is its session's start
        select
            *,
            max(case when starts_session then occurred_at end) over actor_running as session_started_at,
            max(case when starts_session then actor_event_number end) over actor_running as session_first_number
        from boundaries
        window actor_running as (
            partition by session_actor order by occurred_at, source_record_id
            rows between unbounded preceding and current row
        )
    )

    select
        *,
        case when session_actor is not null then
            {{ cast_as(deterministic_uuid(
                "session_actor || '|' || cast(" ~ epoch_seconds('session_started_at') ~ " * 1000000 as bigint)"
            ), 'text') }}
        end as session_id,
        case when session_actor is not null then
            cast(actor_event_number - session_first_number + 1 as integer)
        end as session_sequence
    from numbered
{%- endmacro %}
