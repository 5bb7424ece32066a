"""Manual identity decisions: merge two profiles (the spec's ``mergeProfiles``) or split
identifiers off a profile (unmerge).

Both are *recorded* in ``identity.manual_operations`` and take effect at once on the identity
state: the identity map and the registry move the identifiers, and the merge log says so. Every
later rebuild re-applies them (:func:`~audience_dagster.identity.identity_map.manual_constraints`):

* a merge joins the profiles whatever the limits say, and the primary keeps its id (the
  secondary's id is retired and resolves to the primary);
* an unmerge keeps the split identifiers apart from the profile's other identifiers at the time:
  the solver refuses any union between the two sides and drops direct device links across them.
  The split part gets a new profile id, which it keeps.

A later operation between the same identifiers supersedes an earlier opposite one (an unmerge
after a merge deactivates the merge, and vice versa), so they never fight. Profiles and events
downstream follow at the next materialisation of the identity map's dependants.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg2.extensions

from audience_dagster.errors import IdentityError
from audience_dagster.identity.profile_ids import new_uuids
from audience_dagster.identity.state import LOCK_KEY, ensure_state


def _begin(conn: psycopg2.extensions.connection):
    cur = conn.cursor()
    ensure_state(cur)
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    return cur


def current_profile(cur, profile_id: str) -> str:
    """The live profile id behind any id ever issued (a merged id resolves to its survivor)."""
    cur.execute(
        "SELECT status, current_profile_id::text FROM identity.profiles WHERE profile_id::text = %s", (profile_id,)
    )
    row = cur.fetchone()
    if row is None:
        raise IdentityError(f"profile {profile_id} does not exist (see identity.profiles)")
    status, current = row
    if current is None:
        raise IdentityError(f"profile {profile_id} is {status}: it has no live profile any more")
    return current


def profile_identifiers(cur, profile_id: str) -> list[str]:
    """The profile's identifiers as ``"type:value"`` strings."""
    cur.execute(
        "SELECT identifier_type || ':' || identifier_value FROM identity.identity_map"
        " WHERE profile_id::text = %s ORDER BY 1",
        (profile_id,),
    )
    return [row[0] for row in cur.fetchall()]


def _supersede(cur, op_id: int, op_type: str, side_a: list[str], side_b: list[str]) -> int:
    """Deactivate earlier active operations of ``op_type`` that span the two sides."""
    cur.execute(
        "UPDATE identity.manual_operations SET active = false, superseded_by = %(op)s"
        " WHERE active AND op_id <> %(op)s AND op_type = %(type)s AND ("
        " (identifiers ?| %(a)s AND other_identifiers ?| %(b)s)"
        " OR (identifiers ?| %(b)s AND other_identifiers ?| %(a)s))",
        {"op": op_id, "type": op_type, "a": side_a, "b": side_b},
    )
    return cur.rowcount


def _record(cur, op_type: str, primary: str, secondary: str, ids: list[str], others: list[str], reason: str, by: str):
    cur.execute(
        "INSERT INTO identity.manual_operations (op_type, primary_profile_id, secondary_profile_id,"
        " identifiers, other_identifiers, reason, requested_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING op_id",
        (op_type, primary, secondary, json.dumps(ids), json.dumps(others), reason, by),
    )
    return cur.fetchone()[0]


def merge_profiles(
    conn: psycopg2.extensions.connection, primary_id: str, secondary_id: str, *, reason: str, requested_by: str
) -> int:
    """Merge ``secondary_id`` into ``primary_id`` (which keeps its id); returns the operation id."""
    with _begin(conn) as cur:
        primary, secondary = current_profile(cur, primary_id), current_profile(cur, secondary_id)
        if primary == secondary:
            raise IdentityError(f"profiles {primary_id} and {secondary_id} are already one profile ({primary})")
        ids_primary, ids_secondary = profile_identifiers(cur, primary), profile_identifiers(cur, secondary)
        op_id = _record(cur, "merge", primary, secondary, ids_secondary, ids_primary, reason, requested_by)
        _supersede(cur, op_id, "unmerge", ids_secondary, ids_primary)
        cur.execute("UPDATE identity.identity_map SET profile_id = %s WHERE profile_id = %s", (primary, secondary))
        cur.execute(
            "UPDATE identity.profiles SET status = 'merged', merged_into = %(p)s, retired_at = now()"
            " WHERE profile_id = %(s)s;"
            " UPDATE identity.profiles SET current_profile_id = %(p)s WHERE current_profile_id = %(s)s;"
            " INSERT INTO identity.profile_merges (kind, retired_profile_id, survivor_profile_id, evidence)"
            " VALUES ('manual', %(s)s, %(p)s, %(e)s)",
            {"p": primary, "s": secondary, "e": json.dumps({"op_id": op_id, "reason": reason, "by": requested_by})},
        )
    conn.commit()
    return op_id


def unmerge_identifiers(
    conn: psycopg2.extensions.connection,
    profile_id: str,
    identifiers: Sequence[str],
    *,
    reason: str,
    requested_by: str,
) -> tuple[int, str]:
    """Split ``identifiers`` (``"type:value"``) off a profile into a new one; returns the
    operation id and the new profile id."""
    with _begin(conn) as cur:
        profile = current_profile(cur, profile_id)
        held = profile_identifiers(cur, profile)
        split = sorted(set(identifiers))
        unknown = sorted(set(split) - set(held))
        if unknown:
            raise IdentityError(f"profile {profile} does not hold {unknown}; it holds {held[:20]}")
        rest = [i for i in held if i not in set(split)]
        if not split or not rest:
            raise IdentityError("an unmerge must name some, but not all, of the profile's identifiers")
        new_id = str(new_uuids(1)[0])
        op_id = _record(cur, "unmerge", profile, new_id, split, rest, reason, requested_by)
        _supersede(cur, op_id, "merge", split, rest)
        cur.execute(
            "INSERT INTO identity.profiles (profile_id, created_at, status, current_profile_id)"
            " VALUES (%(n)s, now(), 'active', %(n)s);"
            " UPDATE identity.identity_map SET profile_id = %(n)s"
            " WHERE profile_id = %(p)s AND identifier_type || ':' || identifier_value = ANY(%(ids)s);"
            " INSERT INTO identity.profile_merges (kind, retired_profile_id, survivor_profile_id, evidence)"
            " VALUES ('unmerge', %(p)s, %(n)s, %(e)s)",
            {
                "n": new_id,
                "p": profile,
                "ids": split,
                "e": json.dumps({"op_id": op_id, "reason": reason, "by": requested_by, "identifiers": split}),
            },
        )
    conn.commit()
    return op_id, new_id
