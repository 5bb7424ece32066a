{{ config(**incremental_events_config()) }}

-- Segment calls (pages, screens, tracks, identifies, aliases, groups) in the one event shape of
-- int_events_unioned: source website or app (by library), event_type page_view / screen_view /
-- identify / alias / group / the snake_case track name. Identifiers normalised the way
-- identity.identity_map stores them. One row per call (message_id), so an incremental version
-- can append the calls loaded after the last build.

with

pages as (
    select * from {{ ref('stg_segment__pages') }}
    where {{ past_load_watermark() }}
),

screens as (
    select * from {{ ref('stg_segment__screens') }}
    where {{ past_load_watermark() }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
    where {{ past_load_watermark() }}
),

identifies as (
    select * from {{ ref('stg_segment__identifies') }}
    where {{ past_load_watermark() }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }}
    where {{ past_load_watermark() }}
),

groups as (
    select * from {{ ref('stg_segment__groups') }}
    where {{ past_load_watermark() }}
),

{%- set segment_columns -%}
    message_id, anonymous_id, user_id, page_url, page_title, referrer, utm_campaign, utm_medium,
    ip, locale, timezone, user_agent, device_id, os_name, device_model, app_name, library_name,
    consent_preferences, occurred_at, loaded_at, load_seq
{%- endset %}

-- read twice (user agents, events): inlined, so the planner keeps the tables' statistics and
-- reads only the columns each use needs, instead of copying every row
segment_calls as {{ cte_inlined() }} (
    select 'page' as call_type, page_name as call_name, properties,
           {{ cast_as('null', 'text') }} as trait_city, {{ cast_as('null', 'text') }} as trait_country,
           {{ segment_columns }}
    from pages
    union all
    select 'screen', screen_name, properties, null, null, {{ segment_columns }}
    from screens
    union all
    select 'track', event_name, properties, null, null, {{ segment_columns }}
    from tracks
    union all
    -- an identify's data is its traits
    select 'identify', 'Identify', traits, city, country, {{ segment_columns }}
    from identifies
    union all
    select 'alias', 'Alias', {{ json_object({'previous_id': 'previous_id'}) }}, null, null, {{ segment_columns }}
    from aliases
    union all
    select 'group', 'Group', {{ json_merge('traits', json_object({'group_id': 'group_id'})) }}, null, null,
           {{ segment_columns }}
    from groups
),

{{ user_agents_ctes('segment_calls') }},

{%- set is_app = "app_name is not null or " ~ regex_matches('library_name', '(ios|android)', ignore_case=true) %}
{%- set is_consent_update = "call_name = 'Segment Consent Preference Updated'" %}

segment_events as (
    select
        'segment' as source_system,
        message_id as source_record_id,
        case
            when {{ is_app }} then 'app'
            else 'website'
        end as source,
        case call_type
            when 'page' then 'page_view'
            when 'screen' then 'screen_view'
            when 'track' then {{ snake_case('call_name') }}
            else call_type
        end as event_type,
        call_name as event_name,
        anonymous_id,
        user_id,
        {{ identifier_key('device_id') }} as device_id,
        -- identify traits carry the email; the map links the call's ids to it anyway
        case when call_type = 'identify' then {{ email_key(json_text('properties', 'email')) }} end as email,
        {{ cast_as('null', 'text') }} as shopify_customer_id,
        -- a web checkout names the Shopify order it created
        case
            when call_type = 'track' and call_name = 'Order Completed'
                then {{ identifier_key(json_text('properties', 'order_id')) }}
        end as shopify_order_id,
        {{ cast_as('null', 'text') }} as email_provider_id,
        {{ cast_as('null', 'text') }} as social_handle,
        page_url,
        page_title,
        referrer,
        -- the consent event's preferences live in its context: kept with the event
        case
            when consent_preferences is not null and {{ is_consent_update }}
                then {{ json_merge('properties', json_object({'categoryPreferences': 'consent_preferences'})) }}
            else properties
        end as properties,
        {{ try_cast(json_text('properties', 'content_id'), 'uuid') }} as content_id,
        {{ try_cast(json_text('properties', 'product_id'), 'uuid') }} as product_id,
        utm_campaign as campaign,
        utm_medium as medium,
        case
            when {{ is_app }} then
                case when os_name = 'iPadOS' or device_model ilike 'ipad%' then 'tablet' else 'mobile' end
            else user_agents.device_type
        end as device_type,
        user_agents.browser,
        coalesce(segment_calls.os_name, user_agents.os) as os,
        ip as ip_address,
        coalesce(trait_country, {{ locale_country('locale') }}) as country,
        trait_city as city,
        timezone,
        cast(null as numeric(10,2)) as revenue,
        -- a consent update refusing every category: the person opts out of tracking
        case
            when {{ is_consent_update }} and consent_preferences <> {{ json_empty_object() }}
                then not {{ json_any_value_true('consent_preferences') }}
        end as refuses_all_tracking,
        call_type <> 'track' or call_name is distinct from 'Segment Consent Preference Updated' as is_behavioural,
        occurred_at,
        loaded_at,
        load_seq
    from segment_calls
    left join user_agents on user_agents.user_agent = segment_calls.user_agent
)

select * from segment_events
