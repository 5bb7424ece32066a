-- An incremental table, one row per profile: an increment recomputes only the profiles whose
-- events changed (macros/profile_changes.sql, docs/incremental.md §4).
{{ config(**profile_table_config()) }}

-- What a profile is into, inferred from behaviour in one pass over audience_events. Every
-- event gives weighted signals of three kinds; per profile the signals are summed and ranked
-- (score desc, then name):
--
--   interest   the product category of what was engaged with (properties.category of product
--              views/adds, screens, articles, videos, downloads; /c/<category> pages; the
--              categories of purchased items), plus 'premium' (premium collection) and
--              'discount' (sale collection, discount codes). Weights: view, page, screen 1;
--              article, video, download 2; add to cart 3; purchased item, discounted order 5.
--   content    article (Article Read), video (Video Watched), download (File Downloaded): 1 each.
--   channel    web (website events), app (app events), email (opens and clicks), social: 1 each.
--
-- interests = the top 5 interest tags with a score of at least 3; preferred_verticals = the
-- top 3 product categories (interest tags other than premium/discount); preferred_content_types
-- and preferred_channels = every type / channel used, most used first (at most 3).

{%- set non_vertical_tags = ['premium', 'discount'] %}

with

events as (
    select
        profile_id,
        event_type,
        event_name,
        source,
        page_url,
        properties
    from {{ profile_events() }}
    where profile_id is not null
),

event_tags as {{ cte_computed_once() }} (
    -- each event's signals side by side (narrow rows, kept once), unpivoted below
    select
        profile_id,
        case when event_type in (
            'product_viewed', 'product_added', 'screen_view', 'article_read', 'video_watched', 'file_downloaded'
        ) then lower({{ json_text('properties', 'category') }}) end as category_tag,
        case event_type
            when 'product_added' then 3
            when 'article_read' then 2
            when 'video_watched' then 2
            when 'file_downloaded' then 2
            else 1
        end as category_weight,
        case
            when event_type = 'page_view' then
                case
                    when {{ regex_matches('page_url', '/collections/premium') }} then 'premium'
                    when {{ regex_matches('page_url', '/collections/sale') }} then 'discount'
                    else lower({{ regex_extract('page_url', '/c/([^/?#]+)') }})
                end
            when event_type = 'screen_view' then
                case event_name when 'Premium Collection' then 'premium' when 'Sale' then 'discount' end
        end as page_tag,
        case event_type
            when 'article_read' then 'article'
            when 'video_watched' then 'video'
            when 'file_downloaded' then 'download'
        end as content_tag,
        case
            when source = 'website' then 'web'
            when source = 'app' then 'app'
            when source = 'social' then 'social'
            when event_type in ('email_open', 'email_click') then 'email'
        end as channel_tag
    from events
),

event_signals as (
    select profile_id, 'interest' as kind, category_tag as tag, category_weight as weight
    from event_tags where category_tag is not null
    union all
    select profile_id, 'interest', page_tag, 1
    from event_tags where page_tag is not null
    union all
    select profile_id, 'content', content_tag, 1
    from event_tags where content_tag is not null
    union all
    select profile_id, 'channel', channel_tag, 1
    from event_tags where channel_tag is not null
),

purchases as (
    select profile_id, properties
    from {{ profile_events() }}
    where event_type = 'purchase'
      and profile_id is not null
),

purchase_signals as (
    -- purchased items' categories, and orders with a discount code
    select
        purchases.profile_id,
        'interest' as kind,
        lower({{ json_text('product.value', 'category') }}) as tag,
        5 as weight
    from purchases
    {{ json_elements_join(json_array_or_empty(json_get('purchases.properties', 'products')), 'product') }}
    where {{ json_text('product.value', 'category') }} is not null
    union all
    select profile_id, 'interest', 'discount', 5
    from purchases
    where {{ json_array_length(json_array_or_empty(json_get('properties', 'discount_codes'))) }} > 0
),

signals as (
    select * from event_signals
    union all
    select * from purchase_signals
),

scores as (
    select
        profile_id,
        kind,
        tag,
        sum(weight) as score
    from signals
    group by profile_id, kind, tag
),

ranked as (
    select
        *,
        row_number() over (partition by profile_id, kind order by score desc, tag) as tag_rank,
        row_number() over (
            partition by profile_id, kind, tag in ('{{ non_vertical_tags | join("', '") }}')
            order by score desc, tag
        ) as vertical_rank
    from scores
),

preferences as (
    select
        profile_id,
        coalesce({{ array_agg_ordered('tag', 'tag_rank') }} filter (
            where kind = 'interest' and tag_rank <= 5 and score >= 3
        ), {{ empty_text_array() }}) as interests,
        coalesce({{ array_agg_ordered('tag', 'vertical_rank') }} filter (
            where kind = 'interest' and tag not in ('{{ non_vertical_tags | join("', '") }}') and vertical_rank <= 3
        ), {{ empty_text_array() }}) as preferred_verticals,
        coalesce({{ array_agg_ordered('tag', 'tag_rank') }} filter (
            where kind = 'content' and tag_rank <= 3
        ), {{ empty_text_array() }}) as preferred_content_types,
        coalesce({{ array_agg_ordered('tag', 'tag_rank') }} filter (
            where kind = 'channel' and tag_rank <= 3
        ), {{ empty_text_array() }}) as preferred_channels
    from ranked
    group by profile_id
)

select * from preferences
