with

source as (

    select * from {{ source('raw', 'segment_messages') }}
    where message_type = 'alias'

),

renamed as (

    select
        message_id,
        anonymous_id,
        user_id,
        {{ json_text('payload', 'previousId') }} as previous_id,
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
