with

source as (

    select * from {{ source('raw', 'sendgrid_events') }}

),

renamed as (

    select
        sg_event_id as email_event_id,
        event as event_type,
        email,
        payload ->> 'contact_id' as contact_id,
        payload ->> 'sg_message_id' as sg_message_id,
        payload ->> 'smtp-id' as smtp_id,
        {{ try_cast("payload ->> 'marketing_campaign_id'", 'bigint') }} as campaign_id,
        payload ->> 'marketing_campaign_name' as campaign_name,
        {{ jsonb_to_text_array("payload -> 'category'") }} as categories,
        {{ try_cast("payload ->> 'asm_group_id'", 'bigint') }} as asm_group_id,
        payload ->> 'url' as url,
        payload ->> 'useragent' as user_agent,
        payload ->> 'ip' as ip,
        {{ try_cast("payload ->> 'sg_machine_open'", 'boolean') }} as is_machine_open,
        payload ->> 'reason' as bounce_reason,
        payload ->> 'status' as bounce_status,
        payload ->> 'type' as bounce_type,
        payload ->> 'bounce_classification' as bounce_classification,
        occurred_at,
        loaded_at

    from source

)

select * from renamed
