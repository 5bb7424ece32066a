with

source as (

    select * from {{ source('segments', 'cohort_membership') }}

),

renamed as (

    select
        cohort_id,
        profile_id,
        cohort_period_start,
        entered_at,
        exited_at

    from source

)

select * from renamed
