{{ config(**incremental_events_config()) }}

-- SendGrid events in the one event shape of int_events_unioned: source email, event_type
-- email_<event> (email_delivered, email_open, email_click, ...). Identifiers normalised the way
-- identity.identity_map stores them. One row per SendGrid event (sg_event_id), so an incremental
-- version can append the events loaded after the last build.

with

-- read twice (user agents, events): inlined
email_events as {{ cte_inlined() }} (
    select * from {{ ref('stg_sendgrid__events') }}
    where {{ past_load_watermark() }}
),

{{ user_agents_ctes('email_events') }},

email as (
    select
        'sendgrid' as source_system,
        email_event_id as source_record_id,
        'email' as source,
        'email_' || {{ snake_case('event_type') }} as event_type,
        event_type as event_name,
        {{ cast_as('null', 'text') }} as anonymous_id,
        {{ cast_as('null', 'text') }} as user_id,
        {{ cast_as('null', 'text') }} as device_id,
        {{ email_key('email') }} as email,
        {{ cast_as('null', 'text') }} as shopify_customer_id,
        {{ cast_as('null', 'text') }} as shopify_order_id,
        {{ identifier_key('contact_id') }} as email_provider_id,
        {{ cast_as('null', 'text') }} as social_handle,
        url as page_url,
        {{ cast_as('null', 'text') }} as page_title,
        {{ cast_as('null', 'text') }} as referrer,
        -- message_key: one send's events share the part of sg_message_id before the first '.'
        {{ json_object({
            'message_key': "split_part(sg_message_id, '.', 1)",
            'sg_message_id': 'sg_message_id',
            'smtp_id': 'smtp_id',
            'campaign_id': 'campaign_id',
            'campaign_name': 'campaign_name',
            'categories': json_from('categories'),
            'asm_group_id': 'asm_group_id',
            'url': 'url',
            'is_machine_open': 'is_machine_open',
            'bounce_reason': 'bounce_reason',
            'bounce_status': 'bounce_status',
            'bounce_type': 'bounce_type',
            'bounce_classification': 'bounce_classification',
        }, strip_nulls=true) }} as properties,
        {{ cast_as('null', 'uuid') }} as content_id,
        {{ cast_as('null', 'uuid') }} as product_id,
        coalesce(campaign_name, {{ array_first('categories') }}) as campaign,
        'email' as medium,
        user_agents.device_type,
        user_agents.browser,
        user_agents.os,
        ip as ip_address,
        {{ cast_as('null', 'text') }} as country,
        {{ cast_as('null', 'text') }} as city,
        {{ cast_as('null', 'text') }} as timezone,
        cast(null as numeric(10,2)) as revenue,
        cast(null as boolean) as refuses_all_tracking,
        -- opens and clicks are tracked (pixel, redirect); deliveries and opt-outs are records
        event_type in ('open', 'click') as is_behavioural,
        occurred_at,
        loaded_at,
        load_seq
    from email_events
    left join user_agents on user_agents.user_agent = email_events.user_agent
)

select * from email
