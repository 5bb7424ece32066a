with

source as (

    select * from {{ source('raw', 'segment_messages') }}
    where message_type = 'page'

),

renamed as (

    select
        message_id,
        anonymous_id,
        user_id,
        payload ->> 'name' as page_name,
        payload ->> 'category' as page_category,
        {{ jsonb_object_or_empty("payload -> 'properties'") }} as properties,
        {{- segment_context_columns('payload', page_from_properties=true) }},
        original_timestamp,
        sent_at,
        received_at,
        occurred_at,
        timestamp_clamped,
        loaded_at

    from source

)

select * from renamed
