"""Duplicate suggestions: pairs of profiles that may be one person, for a person to decide.

Two kinds land in ``identity.duplicate_suggestions``, never merged automatically:

* ``over_limit``: the data links the two profiles, but the link would break a per-type limit
  (a 4th email, a 2nd user id) and was refused (:func:`over_limit_suggestions`);
* ``fuzzy``: probabilistic record linkage on names, phones, places and email local parts
  (:mod:`~audience_dagster.identity.duplicates`).

Each producer replaces its own *open* suggestions (:func:`write_suggestions`): a pair it still
sees keeps its id and first-suggested time, a pair it no longer sees disappears, and decided
pairs (accepted / rejected) are history that is never reopened. Accepting records the spec's
manual merge (:func:`~audience_dagster.identity.operations.merge_profiles`): the profile issued
first is the primary.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg2.extensions

from audience_dagster.errors import IdentityError
from audience_dagster.identity.duplicates import PROFILE_SPEC, comparisons_json, find_duplicates, profile_linkage_frame
from audience_dagster.identity.operations import merge_profiles
from audience_dagster.identity.state import ensure_state
from audience_dagster.warehouse.frames import copy_in, copy_out

SUGGESTION_COLUMNS = ("kind", "profile_id_a", "profile_id_b", "match_probability", "comparisons")
MAX_EVIDENCE = 5  # refused links kept per over-limit pair


def over_limit_suggestions(dropped: pd.DataFrame, edges: pd.DataFrame, profile_of_node: np.ndarray) -> pd.DataFrame:
    """One suggestion per pair of profiles joined by links a limit refused.

    ``dropped``: the resolution's dropped edges (``edge``, ``reason``, ``u``, ``v``);
    ``edges``: the graph's edge rows; ``profile_of_node``: profile id per node (None when the
    node has none). ``comparisons`` holds the refused links (up to :data:`MAX_EVIDENCE`) and
    how many there were.
    """
    refused = dropped[dropped["reason"].astype(str).str.startswith("limit:")]
    if refused.empty:
        return pd.DataFrame(columns=list(SUGGESTION_COLUMNS))
    a = profile_of_node[refused["u"].to_numpy()]
    b = profile_of_node[refused["v"].to_numpy()]
    keep = pd.notna(a) & pd.notna(b) & (a != b)
    refused, a, b = refused[keep], a[keep], b[keep]
    rows = edges.iloc[refused["edge"].to_numpy()]
    links = pd.DataFrame(
        {
            "profile_id_a": np.where(a < b, a, b),
            "profile_id_b": np.where(a < b, b, a),
            "reason": refused["reason"].to_numpy(),
            "edge_source": rows["edge_source"].to_numpy(),
            "left": (rows["left_type"] + ":" + rows["left_value"]).to_numpy(),
            "right": (rows["right_type"] + ":" + rows["right_value"]).to_numpy(),
            "first_seen_at": rows["first_seen_at"].astype(str).to_numpy(),
        }
    )
    out = []
    for (pa, pb), group in links.groupby(["profile_id_a", "profile_id_b"], sort=True):
        evidence = group.drop(columns=["profile_id_a", "profile_id_b"]).head(MAX_EVIDENCE)
        comparisons = {"refused_links": len(group), "links": evidence.to_dict(orient="records")}
        out.append(("over_limit", pa, pb, None, json.dumps(comparisons)))
    return pd.DataFrame(out, columns=list(SUGGESTION_COLUMNS))


def write_suggestions(cur: psycopg2.extensions.cursor, kind: str, frame: pd.DataFrame) -> dict[str, int]:
    """Replace the open suggestions of ``kind`` with ``frame`` (:data:`SUGGESTION_COLUMNS`)."""
    cur.execute(
        "CREATE TEMP TABLE incoming_suggestions (kind text, profile_id_a uuid, profile_id_b uuid,"
        " match_probability double precision, comparisons jsonb) ON COMMIT DROP"
    )
    copy_in(cur, "incoming_suggestions", frame.loc[:, list(SUGGESTION_COLUMNS)])
    cur.execute(
        "DELETE FROM identity.duplicate_suggestions AS s WHERE s.kind = %s AND s.status = 'open' AND NOT EXISTS"
        " (SELECT 1 FROM incoming_suggestions AS i"
        "  WHERE i.profile_id_a = s.profile_id_a AND i.profile_id_b = s.profile_id_b)",
        (kind,),
    )
    withdrawn = cur.rowcount
    cur.execute(
        "INSERT INTO identity.duplicate_suggestions"
        " (kind, profile_id_a, profile_id_b, match_probability, comparisons)"
        " SELECT kind, profile_id_a, profile_id_b, match_probability, comparisons FROM incoming_suggestions"
        " ON CONFLICT (kind, profile_id_a, profile_id_b) DO UPDATE SET"
        "  match_probability = excluded.match_probability, comparisons = excluded.comparisons,"
        "  last_suggested_at = now()"
        " WHERE identity.duplicate_suggestions.status = 'open'"
    )
    cur.execute("DROP TABLE incoming_suggestions")
    return {"suggestions": len(frame), "withdrawn": withdrawn}


PROFILES_TABLE = "marts.audience_profile_base"


def suggest_fuzzy_duplicates(conn: psycopg2.extensions.connection, threshold: float) -> dict[str, float]:
    """Score every profile against its blocking neighbours (:mod:`.duplicates`) and replace the
    open ``fuzzy`` suggestions with the pairs at or above ``threshold``. Returns figures."""
    with conn.cursor() as cur:
        ensure_state(cur)
    profiles = copy_out(conn, f"SELECT id, first_name, last_name, phone, email, city, state FROM {PROFILES_TABLE}")
    frame = profile_linkage_frame(profiles)
    matches = find_duplicates(frame, PROFILE_SPEC, threshold)
    a, b = matches["left"].astype(str).to_numpy(), matches["right"].astype(str).to_numpy()
    suggestions = pd.DataFrame(
        {
            "kind": "fuzzy",
            "profile_id_a": np.where(a < b, a, b),
            "profile_id_b": np.where(a < b, b, a),
            "match_probability": matches["probability"].round(6).to_numpy(),
            "comparisons": comparisons_json(matches, PROFILE_SPEC).to_numpy(),
        }
    ).drop_duplicates(["profile_id_a", "profile_id_b"])
    with conn.cursor() as cur:
        written = write_suggestions(cur, "fuzzy", suggestions)
    conn.commit()
    return {"profiles": len(frame), **written}


def list_suggestions(conn: psycopg2.extensions.connection, status: str = "open", limit: int = 50) -> pd.DataFrame:
    """Suggestions with ``status`` (or ``'all'``), most probable first, then newest."""
    where = "" if status == "all" else "WHERE status = %(status)s"
    with conn.cursor() as cur:
        query = cur.mogrify(
            "SELECT suggestion_id, kind, status, profile_id_a, profile_id_b, match_probability, comparisons::text"
            f" FROM identity.duplicate_suggestions {where}"
            " ORDER BY match_probability DESC NULLS LAST, last_suggested_at DESC, suggestion_id LIMIT %(limit)s",
            {"status": status, "limit": int(limit)},
        ).decode()
    return copy_out(conn, query)


def decide_suggestion(
    conn: psycopg2.extensions.connection, suggestion_id: int, accept: bool, reason: str, decided_by: str
) -> tuple[str, str, int | None]:
    """Accept (record a manual merge, the profile issued first as primary) or reject an open
    suggestion. Returns (primary, secondary, merge op id or None)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT s.status, s.profile_id_a::text, s.profile_id_b::text,"
            " coalesce(pa.created_at, 'infinity') <= coalesce(pb.created_at, 'infinity')"
            " FROM identity.duplicate_suggestions AS s"
            " LEFT JOIN identity.profiles AS pa ON pa.profile_id = s.profile_id_a"
            " LEFT JOIN identity.profiles AS pb ON pb.profile_id = s.profile_id_b"
            " WHERE s.suggestion_id = %s",
            (suggestion_id,),
        )
        row = cur.fetchone()
    if row is None:
        raise IdentityError(f"suggestion {suggestion_id} does not exist: `audience identity suggestions` lists them")
    status, a, b, a_first = row
    if status != "open":
        raise IdentityError(f"suggestion {suggestion_id} is already {status}; nothing to do")
    primary, secondary = (a, b) if a_first else (b, a)
    op_id = None
    if accept:
        op_id = merge_profiles(
            conn, primary, secondary, reason=f"suggestion {suggestion_id}: {reason}", requested_by=decided_by
        )
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE identity.duplicate_suggestions SET status = %s, decided_at = now(), decided_by = %s,"
            " decision_reason = %s, op_id = %s WHERE suggestion_id = %s",
            ("accepted" if accept else "rejected", decided_by, reason, op_id, suggestion_id),
        )
    conn.commit()
    return primary, secondary, op_id
