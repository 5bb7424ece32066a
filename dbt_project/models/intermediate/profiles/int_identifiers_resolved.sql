-- Every identifier with the active profile that stands for it today: the map's profile id,
-- followed through the registry to its current profile (a merged id points at the survivor).
-- An identifier whose profile is erased keeps profile_status 'erased' and no profile id, so
-- the records carrying it can be dropped. Blocked identifiers stay (blocked = true, no
-- profile), so consumers can tell a junk value from an unknown one.

with

identifiers as (
    select * from {{ ref('stg_identity__identifiers') }}
),

resolved as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.blocked,
        identifiers.shared_device,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.profile_id as issued_profile_id,
        current_profile.profile_status,
        -- a plain column (not a CASE), so the planner knows how many profiles there are
        active_profile.profile_id
    from identifiers
    -- the registry read three times, each inlined (a shared CTE would hide the table's
    -- statistics and make every join estimate explode at scale)
    left join {{ ref('stg_identity__profiles') }} as issued_profile
        on issued_profile.profile_id = identifiers.profile_id
    left join {{ ref('stg_identity__profiles') }} as current_profile
        on current_profile.profile_id = coalesce(issued_profile.current_profile_id, issued_profile.profile_id)
    left join {{ ref('stg_identity__profiles') }} as active_profile
        on active_profile.profile_id = current_profile.profile_id
        and active_profile.profile_status = 'active'
)

select * from resolved
