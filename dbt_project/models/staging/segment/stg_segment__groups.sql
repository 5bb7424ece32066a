with

source as (

    select * from {{ source('raw', 'segment_messages') }}
    where message_type = 'group'

),

renamed as (

    select
        message_id,
        anonymous_id,
        user_id,
        payload ->> 'groupId' as group_id,
        payload -> 'traits' ->> 'name' as group_name,
        {{ jsonb_object_or_empty("payload -> 'traits'") }} as traits,
        {{- segment_context_columns('payload') }},
        original_timestamp,
        sent_at,
        received_at,
        occurred_at,
        timestamp_clamped,
        loaded_at

    from source

)

select * from renamed
