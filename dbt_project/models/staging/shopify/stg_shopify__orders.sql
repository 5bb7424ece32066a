with

source as (

    select * from {{ source('raw', 'shopify_orders') }}

),

renamed as (

    select
        order_id,
        {{ json_text('payload', 'name') }} as order_name,
        {{ try_cast(json_text('payload', 'order_number'), 'bigint') }} as order_number,
        {{ json_text('payload', 'email') }} as email,

        -- customer: absent for guest checkouts
        {{ try_cast(json_text('payload', ['customer', 'id']), 'bigint') }} as customer_id,
        {{ json_text('payload', ['customer', 'email']) }} as customer_email,
        {{ json_text('payload', ['customer', 'first_name']) }} as customer_first_name,
        {{ json_text('payload', ['customer', 'last_name']) }} as customer_last_name,
        {{ json_text('payload', ['customer', 'phone']) }} as customer_phone,
        {{ json_text('payload', ['customer', 'default_address', 'city']) }} as customer_city,
        {{ json_text('payload', ['customer', 'default_address', 'province']) }} as customer_province,
        {{ json_text('payload', ['customer', 'default_address', 'country_code']) }} as customer_country_code,
        {{ try_cast_timestamp(json_text('payload', ['customer', 'created_at'])) }} as customer_created_at,
        {{ try_cast(json_text('payload', ['customer', 'accepts_marketing']), 'boolean') }} as accepts_marketing,
        {{ try_cast(json_text('payload', 'buyer_accepts_marketing'), 'boolean') }} as buyer_accepts_marketing,

        -- money: decimal strings in the shop's currency
        {{ json_text('payload', 'currency') }} as currency,
        {{ try_cast(json_text('payload', 'subtotal_price'), 'numeric(14,2)') }} as subtotal_price,
        {{ try_cast(json_text('payload', 'total_discounts'), 'numeric(14,2)') }} as total_discounts,
        {{ try_cast(json_text('payload', 'total_tax'), 'numeric(14,2)') }} as total_tax,
        {{ try_cast(json_text('payload', 'total_price'), 'numeric(14,2)') }} as total_price,

        {{ json_text('payload', 'financial_status') }} as financial_status,
        {{ json_text('payload', 'source_name') }} as source_name,
        nullif({{ json_text('payload', 'landing_site') }}, '') as landing_site,
        nullif({{ json_text('payload', 'referring_site') }}, '') as referring_site,
        {{ json_array_field_texts(json_array_or_empty(json_get('payload', 'discount_codes')), 'code') }}
            as discount_codes,

        created_at,
        {{ try_cast_timestamp(json_text('payload', 'processed_at')) }} as processed_at,
        {{ try_cast_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
        {{ try_cast_timestamp(json_text('payload', 'cancelled_at')) }} as cancelled_at,
        loaded_at,
        load_seq

    from source

)

select * from renamed
