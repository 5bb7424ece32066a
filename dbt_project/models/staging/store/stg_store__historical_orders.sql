with

source as (

    select * from {{ source('raw', 'historical_orders') }}

),

renamed as (

    select
        order_key,
        order_id,
        customer_id,
        email,
        ordered_at,
        amount,
        currency,
        loaded_at,
        load_seq

    from source

)

select * from renamed
