with

source as (

    select * from {{ source('raw', 'segment_messages') }}
    where message_type = 'screen'

),

renamed as (

    select
        message_id,
        anonymous_id,
        user_id,
        {{ json_text('payload', 'name') }} as screen_name,
        {{ json_text('payload', 'category') }} as screen_category,
        {{ json_object_or_empty(json_get('payload', 'properties')) }} as properties,
        {{- segment_context_columns('payload') }},
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
