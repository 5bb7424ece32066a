"""The profile API's one statement: find a person, follow merges, return their profile as JSON.

A lookup names a profile id or an identifier (``email``, ``user_id``, ``anonymous_id``). An
identifier is normalised as the identity map stores it (``privacy.normalize_identifier``: emails
trimmed and lower-cased) and found in ``identity.identity_map`` (blocked junk ids name no one);
an anonymous id maps to the profile its device was attached to — the person's, once they
identified. The registry ``identity.profiles`` then gives the live profile: a merged id resolves
to its survivor (``current_profile_id``); retired and erased ids have none (404).

The answer is built in PostgreSQL (``to_jsonb`` and ``jsonb_agg``, one round trip, index look-ups
only: the identity map's primary key, the registry's, the profile base's and scores' primary
keys, the predictions' and memberships' profile indexes): the spec's profile columns
(``marts.audience_profiles``), ``scores`` with their explanations (``marts.score_contributions``),
``segments`` (current memberships), ``predictions`` (``marts.predictions`` with their drivers),
``recommendations`` (``marts.recommendations``), ``next_best_action`` and the current ``offer``
(``marts.price_offers`` still valid) and ``resolved_from`` (the id found before following merges).
``fields=`` keeps only the named columns and sections; SQL is compiled only from the whitelist
below and the view's own columns, values are bound parameters. Pure: builds SQL text; the server
runs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from audience_dagster.collector.limits import RequestRejected

# query parameter -> identity-map identifier type (None: a profile id)
LOOKUPS: dict[str, str | None] = {
    "profile_id": None,
    "email": "email",
    "user_id": "user_id",
    "anonymous_id": "anonymous_id",
}
PROFILE_VIEW = "marts.audience_profiles"
SCORE_TYPES = ("engagement", "wtp", "lead", "health")

_SCORES = (
    "jsonb_build_object("
    + ", ".join(
        f"'{kind}', jsonb_build_object('score', p.{kind}_score, 'explanation', coalesce(c.points -> '{kind}', '[]'))"
        for kind in SCORE_TYPES
    )
    + ", 'lifecycle_stage', p.lifecycle_stage, 'rfm', jsonb_build_object('recency', p.rfm_recency,"
    " 'frequency', p.rfm_frequency, 'monetary', p.rfm_monetary, 'segment', p.rfm_segment))"
)
_CONTRIBUTIONS = """
    SELECT jsonb_object_agg(score_type, rules) AS points FROM (
        SELECT score_type, jsonb_agg(jsonb_build_object('rule', rule, 'points', points)
                                     ORDER BY abs(points) DESC, rule) AS rules
        FROM marts.score_contributions WHERE profile_id = p.id GROUP BY score_type
    ) AS per_type"""
_SEGMENTS = """coalesce((
    SELECT jsonb_agg(jsonb_build_object('slug', s.slug, 'name', s.name, 'segment_type', s.segment_type,
                                        'score', m.score, 'joined_at', m.joined_at, 'expires_at', m.expires_at,
                                        'source', m.source) ORDER BY s.slug)
    FROM marts.segment_membership AS m JOIN marts.micro_segments AS s ON s.id = m.segment_id
    WHERE m.profile_id = p.id AND (m.expires_at IS NULL OR m.expires_at > now())
), '[]')"""
_PREDICTIONS = """coalesce((
    SELECT jsonb_object_agg(prediction_type, jsonb_build_object('value', predicted_value, 'confidence', confidence,
                                        'model_version', model_version, 'drivers', features_used,
                                        'predicted_at', predicted_at, 'valid_until', valid_until))
    FROM marts.predictions WHERE profile_id = p.id
), '{}')"""
_RECOMMENDATIONS = """coalesce((
    SELECT jsonb_agg(jsonb_build_object('item_type', r.item_type, 'item_id', r.item_id, 'rank', r.rank,
                                        'score', r.score, 'reason', r.reason) ORDER BY r.item_type, r.rank)
    FROM marts.recommendations AS r WHERE r.profile_id = p.id
), '[]')"""
_NEXT_BEST_ACTION = """(
    SELECT jsonb_build_object('action', a.action, 'priority', a.priority, 'reason', a.reason, 'item_id', a.item_id,
                              'computed_at', a.computed_at)
    FROM marts.next_best_actions AS a WHERE a.profile_id = p.id
)"""
_OFFER = """(
    SELECT jsonb_build_object('offer', o.offer, 'discount_pct', o.discount_pct, 'reason', o.reason,
                              'valid_until', o.valid_until)
    FROM marts.price_offers AS o WHERE o.profile_id = p.id AND o.valid_until > now()
)"""
SECTIONS: dict[str, str] = {
    "scores": _SCORES,
    "segments": _SEGMENTS,
    "predictions": _PREDICTIONS,
    # activation (audience_dagster/activation): what to show or offer this person now
    "recommendations": _RECOMMENDATIONS,
    "next_best_action": _NEXT_BEST_ACTION,
    "offer": _OFFER,
    "resolved_from": "jsonb_build_object('lookup', %(lookup)s::text, 'profile_id', (SELECT found_id FROM resolved))",
}
_FOUND = {
    None: "SELECT %(profile_id)s::uuid AS profile_id",
    "identifier": """SELECT m.profile_id FROM identity.identity_map AS m
    WHERE m.identifier_type = %(identifier_type)s
      AND m.identifier_value = privacy.normalize_identifier(%(identifier_type)s, %(value)s)
      AND NOT m.blocked AND m.profile_id IS NOT NULL""",
}


@dataclass(frozen=True)
class ProfileRequest:
    """A validated request: how the person is named, and which columns/sections to return."""

    lookup: str
    value: str
    drop_columns: tuple[str, ...]
    sections: tuple[str, ...]

    def params(self) -> dict[str, object]:
        kind = LOOKUPS[self.lookup]
        found = {"profile_id": self.value} if kind is None else {"identifier_type": kind, "value": self.value}
        return {**found, "lookup": self.lookup, "drop": list(self.drop_columns)}


def parse_request(lookup: str, value: str, fields: str | None, columns: Iterable[str]) -> ProfileRequest:
    """Validate a lookup and ``fields=`` against the view's columns and the sections.

    A malformed profile id is *not found* (404), an empty value or unknown field a 400.
    """
    value = value.strip()
    if not value:
        raise RequestRejected(400, "invalid_lookup", f"{lookup} is empty")
    if LOOKUPS[lookup] is None:
        try:
            value = str(uuid.UUID(value))
        except ValueError as exc:
            raise RequestRejected(404, "not_found", "no such profile") from exc
    columns = tuple(columns)
    if fields is None or not fields.strip():
        return ProfileRequest(lookup, value, (), tuple(SECTIONS))
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    unknown = sorted(wanted - set(columns) - set(SECTIONS))
    if unknown:
        raise RequestRejected(
            400,
            "unknown_field",
            f"unknown field(s) {', '.join(unknown)}; choose among the profile columns and {', '.join(SECTIONS)}",
        )
    keep = wanted | {"id"}
    return ProfileRequest(
        lookup, value, tuple(c for c in columns if c not in keep), tuple(s for s in SECTIONS if s in wanted)
    )


def compile_profile_query(lookup: str, sections: tuple[str, ...]) -> str:
    """The statement for a lookup kind and a set of sections (bound parameters: see
    :meth:`ProfileRequest.params`). Returns one row (the JSON document as text) or none.

    The live profile id is a scalar subquery (an init plan), so ``p.id = $id`` reaches the view's
    base table as an index condition and every join below it is an index look-up; joined to the
    lookup instead, the planner hashes the whole view.
    """
    found = _FOUND[None if LOOKUPS[lookup] is None else "identifier"]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}")
    extra = ", ".join(f"'{name}', {SECTIONS[name]}" for name in SECTIONS if name in sections)
    document = "to_jsonb(p) - %(drop)s::text[]"
    if extra:
        document = f"({document}) || jsonb_build_object({extra})"
    contributions = f"LEFT JOIN LATERAL ({_CONTRIBUTIONS}\n) AS c ON true" if "scores" in sections else ""
    return f"""
WITH found AS ({found}),
resolved AS (
    SELECT f.profile_id AS found_id,
           CASE WHEN r.profile_id IS NULL THEN f.profile_id ELSE r.current_profile_id END AS id
    FROM found AS f LEFT JOIN identity.profiles AS r ON r.profile_id = f.profile_id
    LIMIT 1
)
SELECT ({document})::text
FROM {PROFILE_VIEW} AS p
{contributions}
WHERE p.id = (SELECT id FROM resolved)
"""


VIEW_COLUMNS = (
    "SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = 'marts' AND table_name = 'audience_profiles' ORDER BY ordinal_position"
)
