-- Every record of every touchpoint as one event shape, before identity resolution: the union of
-- the per-source tables (int_events_from_<source>, incremental: each appends the raw rows loaded
-- after its last build), which share their columns in one order. Segment calls (website / app),
-- SendGrid events (email), Shopify orders, historical store orders not in Shopify, and social
-- engagements. Identifier columns are normalised the way identity.identity_map stores them,
-- ready to be looked up there.
--
-- A view, and one plain union (no CTE) on purpose: PostgreSQL flattens it into its tables, so a
-- filter on it (load_seq past a watermark, an identifier equal to a value) reaches each table's
-- index (macros/affected_events.sql).

select * from {{ ref('int_events_from_segment') }}
union all
select * from {{ ref('int_events_from_sendgrid') }}
union all
select * from {{ ref('int_events_from_shopify') }}
union all
-- a store order Shopify also has is Shopify's (it counts once)
select store.*
from {{ ref('int_events_from_store') }} as store
left join {{ ref('int_events_from_shopify') }} as shopify
    on shopify.source_record_id = store.shopify_order_id
where shopify.source_record_id is null
union all
select * from {{ ref('int_events_from_social') }}
