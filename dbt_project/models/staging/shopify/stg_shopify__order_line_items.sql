with

source as (

    select * from {{ source('raw', 'shopify_orders') }}

),

line_items as (

    select
        source.order_id,
        source.created_at,
        source.load_seq,
        line_item.value as line_item,
        line_item.position as line_number

    from source
    {{ json_elements_join(
        json_array_or_empty(json_get('source.payload', 'line_items')), 'line_item', position=true
    ) }}

),

renamed as (

    -- Shopify sends "" for unset text fields (sku, product_type, vendor): read as null.
    select
        {{ try_cast(json_text('line_item', 'id'), 'bigint') }} as order_line_item_id,
        order_id,
        cast(line_number as integer) as line_number,
        {{ try_cast(json_text('line_item', 'product_id'), 'bigint') }} as product_id,
        {{ try_cast(json_text('line_item', 'variant_id'), 'bigint') }} as variant_id,
        nullif({{ json_text('line_item', 'sku') }}, '') as sku,
        {{ json_text('line_item', 'title') }} as title,
        {{ try_cast(json_text('line_item', 'quantity'), 'integer') }} as quantity,
        {{ try_cast(json_text('line_item', 'price'), 'numeric(14,2)') }} as price,
        nullif({{ json_text('line_item', 'product_type') }}, '') as product_type,
        nullif({{ json_text('line_item', 'vendor') }}, '') as vendor,
        created_at,
        load_seq

    from line_items

)

select * from renamed
