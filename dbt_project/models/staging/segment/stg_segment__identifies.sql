with

source as (

    select * from {{ source('raw', 'segment_messages') }}
    where message_type = 'identify'

),

renamed as (

    select
        message_id,
        anonymous_id,
        user_id,
        -- Segment's reserved traits are camelCase; some sources send snake_case.
        {{ json_text('payload', ['traits', 'email']) }} as email,
        coalesce(
            {{ json_text('payload', ['traits', 'firstName']) }},
            {{ json_text('payload', ['traits', 'first_name']) }}
        ) as first_name,
        coalesce(
            {{ json_text('payload', ['traits', 'lastName']) }},
            {{ json_text('payload', ['traits', 'last_name']) }}
        ) as last_name,
        {{ json_text('payload', ['traits', 'phone']) }} as phone,
        {{ json_text('payload', ['traits', 'address', 'city']) }} as city,
        {{ json_text('payload', ['traits', 'address', 'state']) }} as state,
        {{ json_text('payload', ['traits', 'address', 'country']) }} as country,
        {{ try_cast_timestamp('coalesce(' ~ json_text('payload', ['traits', 'createdAt']) ~ ', ' ~ json_text('payload', ['traits', 'created_at']) ~ ')') }} as user_created_at,
        {{ json_object_or_empty(json_get('payload', 'traits')) }} as traits,
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
