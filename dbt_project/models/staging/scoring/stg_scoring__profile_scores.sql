with

source as (

    select * from {{ source('scoring', 'profile_scores') }}

),

renamed as (

    select
        id as profile_id,
        engagement_score,
        wtp_score,
        lead_score,
        health_score,
        lifecycle_stage,
        rfm_recency,
        rfm_frequency,
        rfm_monetary,
        rfm_segment,
        scored_at

    from source

)

select * from renamed
