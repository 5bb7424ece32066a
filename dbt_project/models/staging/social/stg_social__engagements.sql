with

source as (

    select * from {{ source('raw', 'social_events') }}

),

renamed as (

    select
        event_id as social_event_id,
        platform,
        action,
        handle,
        {{ json_text('payload', 'email') }} as email,
        {{ json_text('payload', 'post_id') }} as post_id,
        {{ json_text('payload', 'comment_text') }} as comment_text,
        occurred_at,
        loaded_at,
        load_seq

    from source

)

select * from renamed
