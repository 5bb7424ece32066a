{{ config(**incremental_events_config()) }}

-- Social engagements in the one event shape of int_events_unioned: source social, event_type
-- social_<action>; the handle as identity.identity_map stores it ('platform:handle'). One row per
-- engagement (event_id), so an incremental version can append the ones loaded after the last
-- build.

with

social as (
    select * from {{ ref('stg_social__engagements') }}
    where {{ past_load_watermark() }}
),

social_events as (
    select
        'social' as source_system,
        social_event_id as source_record_id,
        'social' as source,
        'social_' || {{ snake_case('action') }} as event_type,
        action as event_name,
        {{ cast_as('null', 'text') }} as anonymous_id,
        {{ cast_as('null', 'text') }} as user_id,
        {{ cast_as('null', 'text') }} as device_id,
        {{ email_key('email') }} as email,
        {{ cast_as('null', 'text') }} as shopify_customer_id,
        {{ cast_as('null', 'text') }} as shopify_order_id,
        {{ cast_as('null', 'text') }} as email_provider_id,
        {{ social_handle_key('platform', 'handle') }} as social_handle,
        {{ cast_as('null', 'text') }} as page_url,
        {{ cast_as('null', 'text') }} as page_title,
        {{ cast_as('null', 'text') }} as referrer,
        {{ json_object({
            'platform': 'platform',
            'handle': 'handle',
            'post_id': 'post_id',
            'comment_text': 'comment_text',
        }, strip_nulls=true) }} as properties,
        {{ cast_as('null', 'uuid') }} as content_id,
        {{ cast_as('null', 'uuid') }} as product_id,
        {{ cast_as('null', 'text') }} as campaign,
        'social' as medium,
        {{ cast_as('null', 'text') }} as device_type,
        {{ cast_as('null', 'text') }} as browser,
        {{ cast_as('null', 'text') }} as os,
        {{ cast_as('null', 'text') }} as ip_address,
        {{ cast_as('null', 'text') }} as country,
        {{ cast_as('null', 'text') }} as city,
        {{ cast_as('null', 'text') }} as timezone,
        cast(null as numeric(10,2)) as revenue,
        cast(null as boolean) as refuses_all_tracking,
        true as is_behavioural,
        occurred_at,
        loaded_at,
        load_seq
    from social
)

select * from social_events
