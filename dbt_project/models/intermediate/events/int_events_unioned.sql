-- Every record of every touchpoint as one event shape, before identity resolution: the union of
-- the per-source models (int_events_from_<source>), which share their columns in one order.
-- Segment calls (website / app), SendGrid events (email), Shopify orders, historical store
-- orders (not already in Shopify) and social engagements. Identifier columns are normalised
-- the way identity.identity_map stores them, ready to be looked up there.

with

unioned as (
    select * from {{ ref('int_events_from_segment') }}
    union all
    select * from {{ ref('int_events_from_sendgrid') }}
    union all
    select * from {{ ref('int_events_from_shopify') }}
    union all
    select * from {{ ref('int_events_from_store') }}
    union all
    select * from {{ ref('int_events_from_social') }}
)

select * from unioned
