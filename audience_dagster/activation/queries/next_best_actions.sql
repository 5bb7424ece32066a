-- One next best action per live profile: the first rule that matches, in priority order.
-- Parameters: as_of, churn_threshold, upsell_wtp, nudge_wtp, cross_sell_threshold, subscribe_engagement.
WITH predictions AS (
    SELECT profile_id,
           max(predicted_value) FILTER (WHERE prediction_type = 'churn') AS churn,
           max(predicted_value) FILTER (WHERE prediction_type = 'next_purchase') AS next_purchase
    FROM marts.predictions GROUP BY profile_id
),
at_risk AS (
    SELECT m.profile_id FROM marts.segment_membership AS m JOIN marts.micro_segments AS s ON s.id = m.segment_id
    WHERE s.slug = 'at-risk-customers' AND (m.expires_at IS NULL OR m.expires_at > %(as_of)s)
),
top_items AS (
    SELECT profile_id,
           min(item_id) FILTER (WHERE item_type = 'product' AND rank = 1) AS product,
           min(item_id) FILTER (WHERE item_type = 'content' AND rank = 1) AS content
    FROM marts.recommendations GROUP BY profile_id
),
ruled AS (
    SELECT p.id AS profile_id, t.product, t.content,
        CASE
            WHEN p.gdpr_consent IS NOT TRUE OR p.do_not_track IS TRUE THEN 'none'
            WHEN coalesce(p.total_orders, 0) > 0
                 AND (EXISTS (SELECT 1 FROM at_risk AS a WHERE a.profile_id = p.id) OR pr.churn >= %(churn_threshold)s)
                THEN 'win_back'
            WHEN coalesce(p.total_orders, 0) > 0 AND p.wtp_score >= %(upsell_wtp)s THEN 'upsell_premium'
            WHEN coalesce(p.total_orders, 0) = 0 AND p.wtp_score >= %(nudge_wtp)s THEN 'first_purchase_nudge'
            WHEN coalesce(p.total_orders, 0) > 0 AND pr.next_purchase >= %(cross_sell_threshold)s THEN 'cross_sell'
            WHEN p.email_subscribed IS NOT TRUE AND p.email IS NOT NULL
                 AND p.engagement_score >= %(subscribe_engagement)s THEN 'subscribe_newsletter'
            ELSE 'nurture_content'
        END AS action,
        pr.churn, pr.next_purchase, p.wtp_score, p.engagement_score
    FROM marts.audience_profiles AS p
    LEFT JOIN predictions AS pr ON pr.profile_id = p.id
    LEFT JOIN top_items AS t ON t.profile_id = p.id
)
SELECT profile_id, action,
       CASE action WHEN 'none' THEN 0 WHEN 'win_back' THEN 1 WHEN 'upsell_premium' THEN 2
                   WHEN 'first_purchase_nudge' THEN 3 WHEN 'cross_sell' THEN 4
                   WHEN 'subscribe_newsletter' THEN 5 ELSE 6 END AS priority,
       CASE action
           WHEN 'none' THEN 'no consent or do-not-track: no personalised action'
           WHEN 'win_back' THEN 'customer at risk: churn probability ' || coalesce(round(churn, 2)::text, 'n/a')
           WHEN 'upsell_premium' THEN 'customer with WTP score ' || round(wtp_score)::text
           WHEN 'first_purchase_nudge' THEN 'no order yet, WTP score ' || round(wtp_score)::text
           WHEN 'cross_sell' THEN 'next purchase probability ' || round(next_purchase, 2)::text
           WHEN 'subscribe_newsletter' THEN 'engaged (score ' || round(engagement_score)::text || ') but not subscribed'
           ELSE 'keep engaging with content'
       END AS reason,
       CASE WHEN action IN ('win_back', 'upsell_premium', 'first_purchase_nudge', 'cross_sell') THEN product
            WHEN action = 'nurture_content' THEN content END AS item_id,
       %(as_of)s::timestamptz AS computed_at
FROM ruled
