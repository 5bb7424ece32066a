with

source as (

    select * from {{ source('raw', 'shopify_orders') }}

),

renamed as (

    select
        order_id,
        payload ->> 'name' as order_name,
        {{ try_cast("payload ->> 'order_number'", 'bigint') }} as order_number,
        payload ->> 'email' as email,

        -- customer: absent for guest checkouts
        {{ try_cast("payload -> 'customer' ->> 'id'", 'bigint') }} as customer_id,
        payload -> 'customer' ->> 'email' as customer_email,
        payload -> 'customer' ->> 'first_name' as customer_first_name,
        payload -> 'customer' ->> 'last_name' as customer_last_name,
        payload -> 'customer' ->> 'phone' as customer_phone,
        payload -> 'customer' -> 'default_address' ->> 'city' as customer_city,
        payload -> 'customer' -> 'default_address' ->> 'province' as customer_province,
        payload -> 'customer' -> 'default_address' ->> 'country_code' as customer_country_code,
        {{ try_cast_timestamptz("payload -> 'customer' ->> 'created_at'") }} as customer_created_at,
        {{ try_cast("payload -> 'customer' ->> 'accepts_marketing'", 'boolean') }} as accepts_marketing,
        {{ try_cast("payload ->> 'buyer_accepts_marketing'", 'boolean') }} as buyer_accepts_marketing,

        -- money: decimal strings in the shop's currency
        payload ->> 'currency' as currency,
        {{ try_cast("payload ->> 'subtotal_price'", 'numeric(14,2)') }} as subtotal_price,
        {{ try_cast("payload ->> 'total_discounts'", 'numeric(14,2)') }} as total_discounts,
        {{ try_cast("payload ->> 'total_tax'", 'numeric(14,2)') }} as total_tax,
        {{ try_cast("payload ->> 'total_price'", 'numeric(14,2)') }} as total_price,

        payload ->> 'financial_status' as financial_status,
        payload ->> 'source_name' as source_name,
        nullif(payload ->> 'landing_site', '') as landing_site,
        nullif(payload ->> 'referring_site', '') as referring_site,
        array(
            select discount_code.value ->> 'code'
            from jsonb_array_elements(
                {{ jsonb_array_or_empty("payload -> 'discount_codes'") }}
            ) with ordinality as discount_code (value, position)
            where discount_code.value ->> 'code' is not null
            order by discount_code.position
        ) as discount_codes,

        created_at,
        {{ try_cast_timestamptz("payload ->> 'processed_at'") }} as processed_at,
        {{ try_cast_timestamptz("payload ->> 'updated_at'") }} as updated_at,
        {{ try_cast_timestamptz("payload ->> 'cancelled_at'") }} as cancelled_at,
        loaded_at

    from source

)

select * from renamed
