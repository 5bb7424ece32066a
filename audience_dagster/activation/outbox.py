"""A sync's plan: the diff between who a destination should hold and who it holds (pure SQL).

*Should hold*: the segment's current members (not expired as of the run's clock) whose profile
has consent (``gdpr_consent``) and no do-not-track — and, for an email destination, an email.
*Holds*: ``activation.destination_members`` (what earlier syncs delivered). The diff, in one
statement: ``entered`` (should hold, not held), ``exited`` (held, no longer eligible — left the
segment, withdrew consent, set do-not-track, merged away) and ``removed`` (held, erased: the
erasure marked the row). It is numbered into batches and written to the outbox, so a crashed sync
resumes the same batches with the same idempotency keys.
"""

from __future__ import annotations

SUBSCRIBER_KEYS = {
    "mailchimp": "md5(lower(btrim(p.email)))",
    "webhook": "p.id::text",
    "file": "p.id::text",
}

_ELIGIBLE = """
members AS (
    SELECT m.profile_id, m.score, m.joined_at
    FROM marts.segment_membership AS m JOIN marts.micro_segments AS s ON s.id = m.segment_id
    WHERE s.slug = %(segment)s AND (m.expires_at IS NULL OR m.expires_at > %(as_of)s)
),
eligible AS (
    SELECT p.id AS profile_id, {key} AS subscriber_key, p.email, p.first_name, p.last_name,
           p.lifecycle_stage, p.wtp_score, p.engagement_score, m.score, m.joined_at
    FROM members AS m JOIN marts.audience_profiles AS p ON p.id = m.profile_id
    WHERE p.gdpr_consent IS TRUE AND p.do_not_track IS NOT TRUE {email}
)"""

PLAN = """
WITH {eligible},
held AS (
    SELECT profile_id, subscriber_key, erased_at FROM activation.destination_members
    WHERE destination_id = %(destination_id)s
),
changes AS (
    SELECT 'entered' AS change, e.profile_id, e.subscriber_key,
           jsonb_build_object('type', 'entered', 'profile_id', e.profile_id, 'subscriber_key', e.subscriber_key,
                              'email', e.email, 'first_name', e.first_name, 'last_name', e.last_name,
                              'score', e.score, 'joined_at', e.joined_at,
                              'traits', jsonb_build_object('lifecycle_stage', e.lifecycle_stage,
                                                           'wtp_score', e.wtp_score,
                                                           'engagement_score', e.engagement_score)) AS payload
    FROM eligible AS e
    WHERE NOT EXISTS (SELECT 1 FROM held AS h WHERE h.profile_id = e.profile_id)
    UNION ALL
    SELECT 'exited', h.profile_id, h.subscriber_key,
           jsonb_build_object('type', 'exited', 'profile_id', h.profile_id, 'subscriber_key', h.subscriber_key,
                              'email', p.email)
    FROM held AS h LEFT JOIN marts.audience_profiles AS p ON p.id = h.profile_id
    WHERE h.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM eligible AS e WHERE e.profile_id = h.profile_id)
    UNION ALL
    SELECT 'removed', h.profile_id, h.subscriber_key,
           jsonb_build_object('type', 'removed', 'reason', 'erasure', 'profile_id', h.profile_id,
                              'subscriber_key', h.subscriber_key)
    FROM held AS h WHERE h.erased_at IS NOT NULL
),
numbered AS (
    SELECT *, ((row_number() OVER (ORDER BY change, profile_id)) - 1) / %(batch_size)s AS batch_no FROM changes
)
INSERT INTO activation.destination_outbox (sync_id, batch_no, change, profile_id, subscriber_key, payload)
SELECT %(sync_id)s, batch_no, change, profile_id, subscriber_key, payload FROM numbered
"""

SKIPPED = """
WITH {eligible}
SELECT (SELECT count(*) FROM members) - (SELECT count(*) FROM eligible) AS skipped
"""

SNAPSHOT = """
SELECT d.profile_id::text AS profile_id, d.subscriber_key, p.email, p.first_name, p.last_name,
       d.sent_at::text AS joined_at
FROM activation.destination_members AS d LEFT JOIN marts.audience_profiles AS p ON p.id = d.profile_id
WHERE d.destination_id = %(destination_id)s AND d.erased_at IS NULL
ORDER BY d.profile_id
"""


def compile_plan(kind: str) -> tuple[str, str]:
    """(the plan INSERT, the count of members skipped for consent) for a destination kind.

    Parameters: ``segment``, ``as_of``, ``destination_id``, ``batch_size``, ``sync_id``."""
    if kind not in SUBSCRIBER_KEYS:
        raise ValueError(f"unknown destination kind {kind!r}")
    eligible = _ELIGIBLE.format(
        key=SUBSCRIBER_KEYS[kind], email="AND nullif(btrim(p.email), '') IS NOT NULL" if kind == "mailchimp" else ""
    ).strip()
    return PLAN.format(eligible=eligible), SKIPPED.format(eligible=eligible)
