-- Every record of every touchpoint as one event shape, before identity resolution:
-- Segment calls (website / app), SendGrid events (email), Shopify orders, historical store
-- orders (not already in Shopify) and social engagements. Identifier columns are normalised
-- the way identity.identity_map stores them, ready to be looked up there.

with

pages as (
    select * from {{ ref('stg_segment__pages') }}
),

screens as (
    select * from {{ ref('stg_segment__screens') }}
),

tracks as (
    select * from {{ ref('stg_segment__tracks') }}
),

identifies as (
    select * from {{ ref('stg_segment__identifies') }}
),

aliases as (
    select * from {{ ref('stg_segment__aliases') }}
),

groups as (
    select * from {{ ref('stg_segment__groups') }}
),

-- CTEs read more than once are NOT MATERIALIZED: inlined, so the planner keeps the tables'
-- statistics and reads only the columns each use needs, instead of copying every row.
email_events as not materialized (
    select * from {{ ref('stg_sendgrid__events') }}
),

shopify_orders as not materialized (
    select * from {{ ref('stg_shopify__orders') }}
),

shopify_line_items as (
    select * from {{ ref('stg_shopify__order_line_items') }}
),

historical_orders as (
    select * from {{ ref('stg_store__historical_orders') }}
),

social as (
    select * from {{ ref('stg_social__engagements') }}
),

{%- set segment_columns -%}
    message_id, anonymous_id, user_id, page_url, page_title, referrer, utm_campaign, utm_medium,
    ip, locale, timezone, user_agent, device_id, os_name, device_model, app_name, library_name,
    consent_preferences, occurred_at, loaded_at
{%- endset %}

segment_calls as not materialized (
    select 'page' as call_type, page_name as call_name, properties,
           null::text as trait_city, null::text as trait_country, {{ segment_columns }}
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
    select 'alias', 'Alias', jsonb_build_object('previous_id', previous_id), null, null, {{ segment_columns }}
    from aliases
    union all
    select 'group', 'Group', traits || jsonb_build_object('group_id', group_id), null, null, {{ segment_columns }}
    from groups
),

-- user agents are parsed once per distinct string (a handful of regexes each), not per event
segment_distinct_user_agents as (
    select distinct user_agent from segment_calls where user_agent is not null
),

segment_user_agents as (
    select
        user_agent,
        {{ user_agent_device_type('user_agent') }} as device_type,
        {{ user_agent_browser('user_agent') }} as browser,
        {{ user_agent_os('user_agent') }} as os
    from segment_distinct_user_agents
),

email_distinct_user_agents as (
    select distinct user_agent from email_events where user_agent is not null
),

email_user_agents as (
    select
        user_agent,
        {{ user_agent_device_type('user_agent') }} as device_type,
        {{ user_agent_browser('user_agent') }} as browser,
        {{ user_agent_os('user_agent') }} as os
    from email_distinct_user_agents
),

segment_events as (
    select
        'segment' as source_system,
        message_id as source_record_id,
        case
            when app_name is not null or library_name ~* '(ios|android)' then 'app'
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
        case when call_type = 'identify' then {{ email_key("properties ->> 'email'") }} end as email,
        null::text as shopify_customer_id,
        -- a web checkout names the Shopify order it created
        case
            when call_type = 'track' and call_name = 'Order Completed'
                then {{ identifier_key("properties ->> 'order_id'") }}
        end as shopify_order_id,
        null::text as email_provider_id,
        null::text as social_handle,
        page_url,
        page_title,
        referrer,
        -- the consent event's preferences live in its context: kept with the event
        case
            when consent_preferences is not null and call_name = 'Segment Consent Preference Updated'
                then properties || jsonb_build_object('categoryPreferences', consent_preferences)
            else properties
        end as properties,
        {{ try_cast("properties ->> 'content_id'", 'uuid') }} as content_id,
        {{ try_cast("properties ->> 'product_id'", 'uuid') }} as product_id,
        utm_campaign as campaign,
        utm_medium as medium,
        case
            when app_name is not null or library_name ~* '(ios|android)' then
                case when os_name = 'iPadOS' or device_model ilike 'ipad%' then 'tablet' else 'mobile' end
            else segment_user_agents.device_type
        end as device_type,
        segment_user_agents.browser,
        coalesce(segment_calls.os_name, segment_user_agents.os) as os,
        ip as ip_address,
        coalesce(trait_country, {{ locale_country('locale') }}) as country,
        trait_city as city,
        timezone,
        null::numeric(10,2) as revenue,
        -- a consent update refusing every category: the person opts out of tracking
        case
            when call_name = 'Segment Consent Preference Updated' and consent_preferences <> '{}'::jsonb
                then not jsonb_path_exists(consent_preferences, '$.* ? (@ == true)')
        end as refuses_all_tracking,
        call_type <> 'track' or call_name is distinct from 'Segment Consent Preference Updated' as is_behavioural,
        occurred_at,
        loaded_at
    from segment_calls
    left join segment_user_agents on segment_user_agents.user_agent = segment_calls.user_agent
),

email as (
    select
        'sendgrid' as source_system,
        email_event_id as source_record_id,
        'email' as source,
        'email_' || {{ snake_case('event_type') }} as event_type,
        event_type as event_name,
        null::text as anonymous_id,
        null::text as user_id,
        null::text as device_id,
        {{ email_key('email') }} as email,
        null::text as shopify_customer_id,
        null::text as shopify_order_id,
        {{ identifier_key('contact_id') }} as email_provider_id,
        null::text as social_handle,
        url as page_url,
        null::text as page_title,
        null::text as referrer,
        jsonb_strip_nulls(jsonb_build_object(
            -- one send's events share the part of sg_message_id before the first '.'
            'message_key', split_part(sg_message_id, '.', 1),
            'sg_message_id', sg_message_id,
            'smtp_id', smtp_id,
            'campaign_id', campaign_id,
            'campaign_name', campaign_name,
            'categories', to_jsonb(categories),
            'asm_group_id', asm_group_id,
            'url', url,
            'is_machine_open', is_machine_open,
            'bounce_reason', bounce_reason,
            'bounce_status', bounce_status,
            'bounce_type', bounce_type,
            'bounce_classification', bounce_classification
        )) as properties,
        null::uuid as content_id,
        null::uuid as product_id,
        coalesce(campaign_name, categories[1]) as campaign,
        'email' as medium,
        email_user_agents.device_type,
        email_user_agents.browser,
        email_user_agents.os,
        ip as ip_address,
        null::text as country,
        null::text as city,
        null::text as timezone,
        null::numeric(10,2) as revenue,
        null::boolean as refuses_all_tracking,
        -- opens and clicks are tracked (pixel, redirect); deliveries and opt-outs are records
        event_type in ('open', 'click') as is_behavioural,
        occurred_at,
        loaded_at
    from email_events
    left join email_user_agents on email_user_agents.user_agent = email_events.user_agent
),

order_products as (
    select
        order_id,
        jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'product_id', product_id::text,
                'variant_id', variant_id::text,
                'sku', sku,
                'name', title,
                'category', product_type,
                'vendor', vendor,
                'quantity', quantity,
                'price', price
            ))
            order by line_number
        ) as products
    from shopify_line_items
    group by order_id
),

shopify as (
    select
        'shopify' as source_system,
        orders.order_id::text as source_record_id,
        'shopify' as source,
        -- a cancelled, voided or refunded order is not a purchase
        case
            when orders.cancelled_at is not null or orders.financial_status = 'voided' then 'order_cancelled'
            when orders.financial_status = 'refunded' then 'order_refunded'
            else 'purchase'
        end as event_type,
        'Order Placed' as event_name,
        null::text as anonymous_id,
        null::text as user_id,
        null::text as device_id,
        {{ email_key('coalesce(orders.email, orders.customer_email)') }} as email,
        orders.customer_id::text as shopify_customer_id,
        orders.order_id::text as shopify_order_id,
        null::text as email_provider_id,
        null::text as social_handle,
        null::text as page_url,
        null::text as page_title,
        orders.referring_site as referrer,
        jsonb_strip_nulls(jsonb_build_object(
            'order_id', orders.order_id::text,
            'order_name', orders.order_name,
            'order_number', orders.order_number,
            'currency', orders.currency,
            'subtotal_price', orders.subtotal_price,
            'total_discounts', orders.total_discounts,
            'total_tax', orders.total_tax,
            'total_price', orders.total_price,
            'financial_status', orders.financial_status,
            'source_name', orders.source_name,
            'landing_site', orders.landing_site,
            'discount_codes', to_jsonb(orders.discount_codes),
            'products', coalesce(order_products.products, '[]'::jsonb),
            'customer', case when orders.customer_id is not null then jsonb_strip_nulls(jsonb_build_object(
                'id', orders.customer_id::text,
                'first_name', orders.customer_first_name,
                'last_name', orders.customer_last_name,
                'city', orders.customer_city,
                'province', orders.customer_province,
                'country_code', orders.customer_country_code,
                'accepts_marketing', orders.accepts_marketing,
                'created_at', orders.customer_created_at
            )) end
        )) as properties,
        null::uuid as content_id,
        null::uuid as product_id,
        {{ utm_parameter('orders.landing_site', 'utm_campaign') }} as campaign,
        {{ utm_parameter('orders.landing_site', 'utm_medium') }} as medium,
        null::text as device_type,
        null::text as browser,
        null::text as os,
        null::text as ip_address,
        orders.customer_country_code as country,
        orders.customer_city as city,
        null::text as timezone,
        case
            when orders.cancelled_at is null and orders.financial_status is distinct from 'voided'
                and orders.financial_status is distinct from 'refunded'
                then {{ spec_money('orders.total_price') }}
        end as revenue,
        null::boolean as refuses_all_tracking,
        false as is_behavioural,
        orders.created_at as occurred_at,
        orders.loaded_at
    from shopify_orders as orders
    left join order_products on order_products.order_id = orders.order_id
),

store as (
    -- an order exported from the old till that Shopify also has is Shopify's: counted once
    select
        'store' as source_system,
        historical_orders.order_key as source_record_id,
        'store' as source,
        'purchase' as event_type,
        'Historical Order' as event_name,
        null::text as anonymous_id,
        null::text as user_id,
        null::text as device_id,
        {{ email_key('historical_orders.email') }} as email,
        {{ identifier_key('historical_orders.customer_id') }} as shopify_customer_id,
        {{ identifier_key('historical_orders.order_id') }} as shopify_order_id,
        null::text as email_provider_id,
        null::text as social_handle,
        null::text as page_url,
        null::text as page_title,
        null::text as referrer,
        jsonb_strip_nulls(jsonb_build_object(
            'order_id', historical_orders.order_id,
            'order_key', historical_orders.order_key,
            'customer_id', historical_orders.customer_id,
            'amount', historical_orders.amount,
            'currency', historical_orders.currency
        )) as properties,
        null::uuid as content_id,
        null::uuid as product_id,
        null::text as campaign,
        null::text as medium,
        null::text as device_type,
        null::text as browser,
        null::text as os,
        null::text as ip_address,
        null::text as country,
        null::text as city,
        null::text as timezone,
        {{ spec_money('historical_orders.amount') }} as revenue,
        null::boolean as refuses_all_tracking,
        false as is_behavioural,
        historical_orders.ordered_at as occurred_at,
        historical_orders.loaded_at
    from historical_orders
    left join shopify_orders
        on shopify_orders.order_id::text = {{ identifier_key('historical_orders.order_id') }}
    where shopify_orders.order_id is null
),

social_events as (
    select
        'social' as source_system,
        social_event_id as source_record_id,
        'social' as source,
        'social_' || {{ snake_case('action') }} as event_type,
        action as event_name,
        null::text as anonymous_id,
        null::text as user_id,
        null::text as device_id,
        {{ email_key('email') }} as email,
        null::text as shopify_customer_id,
        null::text as shopify_order_id,
        null::text as email_provider_id,
        {{ social_handle_key('platform', 'handle') }} as social_handle,
        null::text as page_url,
        null::text as page_title,
        null::text as referrer,
        jsonb_strip_nulls(jsonb_build_object(
            'platform', platform,
            'handle', handle,
            'post_id', post_id,
            'comment_text', comment_text
        )) as properties,
        null::uuid as content_id,
        null::uuid as product_id,
        null::text as campaign,
        'social' as medium,
        null::text as device_type,
        null::text as browser,
        null::text as os,
        null::text as ip_address,
        null::text as country,
        null::text as city,
        null::text as timezone,
        null::numeric(10,2) as revenue,
        null::boolean as refuses_all_tracking,
        true as is_behavioural,
        occurred_at,
        loaded_at
    from social
),

unioned as (
    select * from segment_events
    union all
    select * from email
    union all
    select * from shopify
    union all
    select * from store
    union all
    select * from social_events
)

select * from unioned
