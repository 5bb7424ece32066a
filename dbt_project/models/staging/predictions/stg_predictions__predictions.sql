with

source as (

    select * from {{ source('predictions', 'predictions') }}

),

renamed as (

    select
        id as prediction_id,
        profile_id,
        prediction_type,
        predicted_value,
        confidence,
        model_version,
        features_used,
        predicted_at,
        valid_until

    from source

)

select * from renamed
