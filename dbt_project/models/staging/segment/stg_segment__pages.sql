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
        {{ json_text('payload', 'name') }} as page_name,
        {{ json_text('payload', 'category') }} as page_category,
        {{ json_object_or_empty(json_get('payload', 'properties')) }} as properties,
        {{- segment_context_columns('payload', page_from_properties=true) }},
        original_timestamp,
        sent_at,
        received_at,
        occurred_at,
        timestamp_clamped,
        loaded_at,
        load_seq

    from source

)

select * from renamed
