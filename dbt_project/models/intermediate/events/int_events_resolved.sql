-- Each event's profile, looked up in the identity map by the identifiers it carries, in
-- priority order: user_id, email, shopify_customer_id, email_provider_id, social_handle,
-- shopify_order_id, anonymous_id, device_id. The first identifier with a profile decides;
-- blocked (junk) identifiers have none and fall through.
--
-- Anonymous history needs no back-filling: once a visitor identifies, identity resolution
-- puts their anonymous_id into the person's profile, so every event on that anonymous_id,
-- before the identify as well as after, resolves to the person (the spec's identifyUser).
-- Events whose deciding profile is erased are dropped.

{%- set priorities = [
    ('user_id', 'btrim(events.user_id)'),
    ('email', 'events.email'),
    ('shopify_customer_id', 'events.shopify_customer_id'),
    ('email_provider_id', 'events.email_provider_id'),
    ('social_handle', 'events.social_handle'),
    ('shopify_order_id', 'events.shopify_order_id'),
    ('anonymous_id', 'btrim(events.anonymous_id)'),
    ('device_id', 'events.device_id'),
] %}

with

events as (
    select * from {{ ref('int_events_unioned') }}
),

-- one lookup per identifier type, each reading the identifiers itself (not a shared CTE):
-- inlined, the planner sees the map's statistics and hashes each small lookup once
{% for identifier_type, _ in priorities %}
by_{{ identifier_type }} as (
    select identifier_value, profile_id, profile_status, blocked
    from {{ ref('int_identifiers_resolved') }}
    where identifier_type = '{{ identifier_type }}'
),
{% endfor %}

looked_up as (
    -- the deciding identifier is the first one the map knows with a (non-blocked) profile
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
),

resolved as (
    select * from looked_up
    where profile_status is distinct from 'erased'
)

select * from resolved
