"""Identity state on a real PostgreSQL: stable profile ids, merges, splits and manual decisions
surviving rebuilds. The graphs are written by hand straight into the two dbt tables the identity
asset reads (``int_identity_identifiers`` / ``int_identity_edges``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2.extensions
import pytest

from audience_dagster.errors import IdentityError
from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.identity.operations import merge_profiles, unmerge_identifiers
from audience_dagster.warehouse.connection import connect

Edge = tuple[str, str, str]  # ("type:value", "type:value", first seen "YYYY-MM-DD")


@pytest.fixture()
def conn(warehouse_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = connect(warehouse_url)
    with connection.cursor() as cur:
        cur.execute(
            "DROP SCHEMA IF EXISTS identity CASCADE; DROP SCHEMA IF EXISTS intermediate CASCADE;"
            " CREATE SCHEMA intermediate;"
            " CREATE TABLE intermediate.int_identity_edges (left_type text, left_value text, right_type text,"
            "  right_value text, right_region text, edge_source text, first_seen_at timestamptz,"
            "  last_seen_at timestamptz, observations bigint);"
            " CREATE TABLE intermediate.int_identity_identifiers (identifier_type text, identifier_value text,"
            "  region text, first_seen_at timestamptz, last_seen_at timestamptz, observations bigint);"
        )
    connection.commit()
    yield connection
    connection.close()


def load_graph(conn: psycopg2.extensions.connection, edges: list[Edge], lone: list[str] = ()) -> None:
    """Replace the graph: edges, plus identifiers no edge names."""
    rows = [(*a.split(":", 1), *b.split(":", 1), "test", t, t, 1) for a, b, t in edges]
    with conn.cursor() as cur:
        cur.execute("TRUNCATE intermediate.int_identity_edges, intermediate.int_identity_identifiers")
        if rows:
            cur.executemany(
                "INSERT INTO intermediate.int_identity_edges (left_type, left_value, right_type, right_value,"
                " edge_source, first_seen_at, last_seen_at, observations) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )
        for node in lone:
            cur.execute(
                "INSERT INTO intermediate.int_identity_identifiers (identifier_type, identifier_value, first_seen_at,"
                " last_seen_at, observations) VALUES (%s, %s, '2026-01-01', '2026-01-01', 1)",
                node.split(":", 1),
            )
    conn.commit()


def rebuild(conn: psycopg2.extensions.connection) -> dict[str, str]:
    """Resolve; return identifier -> profile id."""
    resolve_warehouse_identities(conn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT identifier_type || ':' || identifier_value, profile_id::text FROM identity.identity_map"
            " WHERE NOT blocked"
        )
        return dict(cur.fetchall())


def query(conn: psycopg2.extensions.connection, sql: str, *args: object) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_profile_ids_survive_rebuilds_and_new_identifiers_join_them(conn) -> None:
    load_graph(conn, [("user_id:u1", "email:ann@x.io", "2026-01-01")], lone=["anonymous_id:visitor"])
    first = rebuild(conn)
    assert first["user_id:u1"] == first["email:ann@x.io"] != first["anonymous_id:visitor"]
    assert rebuild(conn) == first  # nothing changed: same ids
    load_graph(
        conn,
        [("user_id:u1", "email:ann@x.io", "2026-01-01"), ("user_id:u1", "anonymous_id:visitor", "2026-02-01")],
    )
    second = rebuild(conn)
    # the visitor identified: their anonymous history now belongs to Ann's profile, whose id is kept
    assert set(second.values()) == {first["user_id:u1"]}
    (merge,) = query(
        conn, "SELECT kind, retired_profile_id::text, survivor_profile_id::text, evidence FROM identity.profile_merges"
    )
    assert merge[:3] == ("rule", first["anonymous_id:visitor"], first["user_id:u1"])
    assert merge[3]["edge_source"] == "test" and "anonymous_id:visitor" in (merge[3]["left"], merge[3]["right"])
    # the retired id still resolves to the survivor
    assert query(conn, "SELECT status, current_profile_id::text FROM identity.profiles WHERE profile_id = %s",
                 first["anonymous_id:visitor"]) == [("merged", first["user_id:u1"])]  # fmt: skip


def test_merge_survivor_is_the_profile_seen_first(conn) -> None:
    load_graph(
        conn,
        [
            ("social_handle:ig:late", "email:late@x.io", "2026-03-01"),
            ("user_id:early", "shopify_customer_id:c1", "2025-01-01"),
        ],
    )
    before = rebuild(conn)
    load_graph(
        conn,
        [
            ("social_handle:ig:late", "email:late@x.io", "2026-03-01"),
            ("user_id:early", "shopify_customer_id:c1", "2025-01-01"),
            ("email:late@x.io", "shopify_customer_id:c1", "2026-04-01"),
        ],
    )
    after = rebuild(conn)
    assert set(after.values()) == {before["user_id:early"]}


def test_retired_when_every_identifier_is_gone(conn) -> None:
    load_graph(conn, [("user_id:u1", "email:a@x.io", "2026-01-01")], lone=["anonymous_id:gone"])
    ids = rebuild(conn)
    load_graph(conn, [("user_id:u1", "email:a@x.io", "2026-01-01")])
    rebuild(conn)
    assert query(conn, "SELECT status, current_profile_id FROM identity.profiles WHERE profile_id = %s",
                 ids["anonymous_id:gone"]) == [("retired", None)]  # fmt: skip


def test_manual_merge_is_reapplied_by_every_rebuild(conn) -> None:
    graph = [("user_id:u1", "email:a@x.io", "2026-01-01"), ("user_id:u2", "email:b@x.io", "2026-01-02")]
    load_graph(conn, graph)
    ids = rebuild(conn)
    primary, secondary = ids["user_id:u1"], ids["user_id:u2"]
    op = merge_profiles(conn, primary, secondary, reason="same person, two logins", requested_by="test")
    assert set(rebuild(conn).values()) == {primary}  # two user ids in one profile: a person decided
    load_graph(conn, [*graph, ("email:b@x.io", "anonymous_id:new", "2026-05-01")])
    assert set(rebuild(conn).values()) == {primary}
    assert query(conn, "SELECT current_profile_id::text FROM identity.profiles WHERE profile_id = %s", secondary) == [
        (primary,)
    ]
    kinds = query(conn, "SELECT kind, evidence FROM identity.profile_merges ORDER BY merge_id")
    assert kinds[0][0] == "manual" and kinds[0][1]["op_id"] == op
    with pytest.raises(IdentityError, match="already one profile"):
        merge_profiles(conn, primary, secondary, reason="again", requested_by="test")


def test_unmerge_is_reapplied_by_every_rebuild(conn) -> None:
    graph = [
        ("user_id:u1", "email:a@x.io", "2026-01-01"),
        ("user_id:u1", "email:kid@x.io", "2026-01-02"),
        ("email:kid@x.io", "anonymous_id:kid-laptop", "2026-01-03"),
    ]
    load_graph(conn, graph)
    profile = rebuild(conn)["user_id:u1"]
    _, new_id = unmerge_identifiers(
        conn, profile, ["email:kid@x.io", "anonymous_id:kid-laptop"], reason="child's address", requested_by="test"
    )
    ids = rebuild(conn)
    assert ids["user_id:u1"] == ids["email:a@x.io"] == profile
    assert ids["email:kid@x.io"] == ids["anonymous_id:kid-laptop"] == new_id
    # new data linking the two sides again does not undo the decision
    load_graph(
        conn,
        [
            *graph,
            ("user_id:u1", "email:kid@x.io", "2026-06-01"),
            ("email:kid@x.io", "phone:+442079460958", "2026-06-02"),
        ],
    )
    ids = rebuild(conn)
    assert ids["user_id:u1"] == profile and ids["email:kid@x.io"] == ids["phone:+442079460958"] == new_id
    reasons = {r for (r,) in query(conn, "SELECT reason FROM identity.dropped_edges")}
    assert "manual_unmerge" in reasons


def test_merge_after_unmerge_supersedes_it(conn) -> None:
    load_graph(conn, [("user_id:u1", "email:a@x.io", "2026-01-01"), ("user_id:u1", "email:b@x.io", "2026-01-02")])
    profile = rebuild(conn)["user_id:u1"]
    op_unmerge, split = unmerge_identifiers(conn, profile, ["email:b@x.io"], reason="mistake?", requested_by="test")
    assert rebuild(conn)["email:b@x.io"] == split
    op_merge = merge_profiles(conn, profile, split, reason="it was right", requested_by="test")
    assert set(rebuild(conn).values()) == {profile}
    assert query(conn, "SELECT op_id, active, superseded_by FROM identity.manual_operations ORDER BY op_id") == [
        (op_unmerge, False, op_merge),
        (op_merge, True, None),
    ]


def test_unmerge_rejects_identifiers_the_profile_does_not_hold(conn) -> None:
    load_graph(conn, [("user_id:u1", "email:a@x.io", "2026-01-01")], lone=["user_id:other"])
    profile = rebuild(conn)["user_id:u1"]
    with pytest.raises(IdentityError, match="does not hold"):
        unmerge_identifiers(conn, profile, ["user_id:other"], reason="x", requested_by="test")
    with pytest.raises(IdentityError, match="not all"):
        unmerge_identifiers(conn, profile, ["user_id:u1", "email:a@x.io"], reason="x", requested_by="test")
    with pytest.raises(IdentityError, match="does not exist"):
        merge_profiles(conn, profile, "00000000-0000-4000-8000-000000000000", reason="x", requested_by="test")


def test_a_10000_identifier_alias_chain_is_one_profile(conn) -> None:
    # user id -> anon 0 -> anon 1 -> ... : devices chained through app device ids
    edges = [("user_id:u", "anonymous_id:a0", "2026-01-01")]
    edges += [(f"anonymous_id:a{i}", f"device_id:d{i}", "2026-01-01") for i in range(5_000)]
    edges += [(f"device_id:d{i}", f"anonymous_id:a{i + 1}", "2026-01-01") for i in range(4_999)]
    load_graph(conn, edges)
    ids = rebuild(conn)
    assert len(ids) == 10_001 and len(set(ids.values())) == 1
    assert json.dumps(sorted(set(ids.values()))) == json.dumps([ids["user_id:u"]])
