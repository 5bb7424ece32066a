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
        payload -> 'traits' ->> 'email' as email,
        coalesce(
            payload -> 'traits' ->> 'firstName',
            payload -> 'traits' ->> 'first_name'
        ) as first_name,
        coalesce(
            payload -> 'traits' ->> 'lastName',
            payload -> 'traits' ->> 'last_name'
        ) as last_name,
        payload -> 'traits' ->> 'phone' as phone,
        payload -> 'traits' -> 'address' ->> 'city' as city,
        payload -> 'traits' -> 'address' ->> 'state' as state,
        payload -> 'traits' -> 'address' ->> 'country' as country,
        {{ try_cast_timestamptz("coalesce(payload -> 'traits' ->> 'createdAt', payload -> 'traits' ->> 'created_at')") }} as user_created_at,
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
