-- Scores written by the scores asset (audience_dagster/scoring). Created by bootstrap so the
-- dbt view marts.audience_profiles can read it before the first scoring run (it then shows the
-- spec's defaults). Replaced as a whole at every scoring run (TRUNCATE + INSERT, one transaction).
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.profile_scores (
    id                uuid PRIMARY KEY,
    engagement_score  integer NOT NULL,
    wtp_score         integer NOT NULL,
    lead_score        integer NOT NULL,
    health_score      integer NOT NULL,
    lifecycle_stage   text    NOT NULL,
    rfm_recency       integer,
    rfm_frequency     integer,
    rfm_monetary      integer,
    rfm_segment       text,
    engagement_points smallint[] NOT NULL,  -- per term, in the order of marts.score_terms
    wtp_points        smallint[] NOT NULL,
    lead_points       smallint[] NOT NULL,
    health_points     smallint[] NOT NULL,
    scored_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_audience_profiles_wtp ON marts.profile_scores (wtp_score DESC);
CREATE INDEX IF NOT EXISTS idx_audience_profiles_engagement ON marts.profile_scores (engagement_score DESC);
CREATE INDEX IF NOT EXISTS idx_audience_profiles_lifecycle ON marts.profile_scores (lifecycle_stage);

-- which rule each position of the *_points arrays stands for, as of the last scoring run
CREATE TABLE IF NOT EXISTS marts.score_terms (
    score_type text    NOT NULL,
    position   integer NOT NULL,  -- 1-based, as PostgreSQL arrays
    rule       text    NOT NULL,
    PRIMARY KEY (score_type, position)
);

-- every (profile, rule) that moved a score, and by how much: the explanation of any score
CREATE OR REPLACE VIEW marts.score_contributions AS
SELECT s.id AS profile_id, p.score_type, t.rule, p.points
FROM marts.profile_scores s
CROSS JOIN LATERAL (
    SELECT 'engagement' AS score_type, points, position FROM unnest(s.engagement_points) WITH ORDINALITY AS u(points, position)
    UNION ALL
    SELECT 'wtp', points, position FROM unnest(s.wtp_points) WITH ORDINALITY AS u(points, position)
    UNION ALL
    SELECT 'lead', points, position FROM unnest(s.lead_points) WITH ORDINALITY AS u(points, position)
    UNION ALL
    SELECT 'health', points, position FROM unnest(s.health_points) WITH ORDINALITY AS u(points, position)
) AS p
JOIN marts.score_terms t ON t.score_type = p.score_type AND t.position = p.position
WHERE p.points <> 0;
