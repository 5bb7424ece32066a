with

source as (

    select * from {{ source('raw', 'sendgrid_events') }}

),

renamed as (

    select
        sg_event_id as email_event_id,
        event as event_type,
        email,
        {{ json_text('payload', 'contact_id') }} as contact_id,
        {{ json_text('payload', 'sg_message_id') }} as sg_message_id,
        {{ json_text('payload', 'smtp-id') }} as smtp_id,
        {{ try_cast(json_text('payload', 'marketing_campaign_id'), 'bigint') }} as campaign_id,
        {{ json_text('payload', 'marketing_campaign_name') }} as campaign_name,
        {{ json_to_text_array(json_get('payload', 'category')) }} as categories,
        {{ try_cast(json_text('payload', 'asm_group_id'), 'bigint') }} as asm_group_id,
        {{ json_text('payload', 'url') }} as url,
        {{ json_text('payload', 'useragent') }} as user_agent,
        {{ json_text('payload', 'ip') }} as ip,
        {{ try_cast(json_text('payload', 'sg_machine_open'), 'boolean') }} as is_machine_open,
        {{ json_text('payload', 'reason') }} as bounce_reason,
        {{ json_text('payload', 'status') }} as bounce_status,
        {{ json_text('payload', 'type') }} as bounce_type,
        {{ json_text('payload', 'bounce_classification') }} as bounce_classification,
        occurred_at,
        loaded_at,
        load_seq

    from source

)

select * from renamed
