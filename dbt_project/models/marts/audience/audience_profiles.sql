{{ config(materialized='view') }}

-- The spec's audience_profiles in the spec's column order: the profile base (dbt) and the scores
-- (stg_scoring__profile_scores over marts.profile_scores, replaced by the scores asset at every run). Not scored yet -> the spec's
-- defaults. Predictions: from stg_predictions__predictions over marts.predictions (replaced by
-- the predictions asset), null until the first prediction run.

with

base as (
    select * from {{ ref('audience_profile_base') }}
),

scores as (
    select * from {{ ref('stg_scoring__profile_scores') }}
),

-- not materialized: read three times below, PostgreSQL would otherwise compute this CTE once,
-- whole, for every query; inlined, `where id = …` on the view is three index look-ups (the
-- profile API's case) instead of a scan of every prediction
predictions as {{ cte_inlined() }} (
    select profile_id, prediction_type, predicted_value, predicted_at
    from {{ ref('stg_predictions__predictions') }}
)

select
        base.id,
        base.email,
        base.phone,
        base.external_ids,
        base.first_name,
        base.last_name,
        base.display_name,
        base.avatar_url,
        base.city,
        base.state,
        base.country,
        base.timezone,
        base.first_seen_at,
        base.last_seen_at,
        base.total_sessions,
        base.total_pageviews,
        base.total_events,
        base.articles_read,
        base.videos_watched,
        base.downloads,
        base.email_subscribed,
        base.email_subscription_date,
        base.emails_received,
        base.emails_opened,
        base.emails_clicked,
        base.total_orders,
        base.total_revenue,
        base.average_order_value,
        base.last_order_at,
        base.interests,
        base.preferred_verticals,
        base.preferred_content_types,
        base.preferred_channels,
        coalesce(scores.engagement_score, 0) as engagement_score,
        coalesce(scores.wtp_score, 50) as wtp_score,
        coalesce(scores.lead_score, 0) as lead_score,
        coalesce(scores.health_score, 50) as health_score,
        coalesce(scores.lifecycle_stage, 'anonymous') as lifecycle_stage,
        base.acquisition_source,
        base.acquisition_campaign,
        base.acquisition_date,
        scores.rfm_recency,
        scores.rfm_frequency,
        scores.rfm_monetary,
        scores.rfm_segment,
        cast(round(ltv.predicted_value, 2) as numeric(10,2)) as predicted_ltv,
        churn.predicted_value as churn_risk,
        next_purchase.predicted_value as next_purchase_probability,
        base.gdpr_consent,
        base.gdpr_consent_date,
        base.do_not_track,
        base.created_at,
        greatest(base.updated_at, scores.scored_at, churn.predicted_at) as updated_at
from base
left join scores on scores.profile_id = base.id
left join predictions as ltv on ltv.profile_id = base.id and ltv.prediction_type = 'ltv'
left join predictions as churn on churn.profile_id = base.id and churn.prediction_type = 'churn'
left join predictions as next_purchase
    on next_purchase.profile_id = base.id and next_purchase.prediction_type = 'next_purchase'
