with

source as (

    select * from {{ source('segments', 'cohort_definitions') }}

),

renamed as (

    select
        id as cohort_id,
        name as cohort_name,
        cohort_type,
        cohort_period,
        status as cohort_status

    from source

)

select * from renamed
