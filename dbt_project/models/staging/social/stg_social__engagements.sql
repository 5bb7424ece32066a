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
        payload ->> 'email' as email,
        payload ->> 'post_id' as post_id,
        payload ->> 'comment_text' as comment_text,
        occurred_at,
        loaded_at

    from source

)

select * from renamed
