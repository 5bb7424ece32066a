"""audience_events built incrementally equals a full build, row for row (docs/incremental.md).

A generated sample is split, line by line at random, into a base and three increments, so the
increments hold new people, returning people's new events, events of earlier months arriving
late, identifies and orders linking history loaded before (a store order whose Shopify order
arrives later), plus a hand-written visitor: anonymous pages in the base, a page 10 minutes
after the last one in the first increment (the session continues across the boundary), an
identify in the second that links the anonymous history, and an erasure before the third; and
a second visitor whose late calls reach far back: a page bridging two sessions, one at the same
moment as an earlier page, a late opt-out, an opt-in and an identify (bridger_lines()); and an
alias whose previousId the next increment names as a user id.

Each step loads the new files and runs the refresh job's assets up to audience_profile_base
(ingest, dbt staging, identity, the events stage with the per-profile tables) on the embedded
PostgreSQL; then the identity graph's tables (int_identity_edges / _identifiers, which merge
the new rows into their aggregates: macros/incremental_identity.sql), audience_events, the
per-profile tables over it (int_profile_*, which recompute only the profiles whose events
changed: macros/profile_changes.sql) and the profile base are copied aside, rebuilt with `dbt
run --full-refresh` from the same data, and each pair compared with EXCEPT ALL both ways. The
change log's state is put back afterwards, so the next step builds incrementally again. After
the last step the typed event tables are rebuilt in full too.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from audience_dagster.config import DBT_PROJECT_DIR, load_settings
from audience_dagster.privacy.erasure import erase_person
from audience_dagster.privacy.identifiers import Lookup
from audience_dagster.runtime import prepare_runtime
from audience_dagster.sample_data.generator import generate
from audience_dagster.transform.keys import PROFILE_BASE_KEY
from audience_dagster.warehouse.connection import bootstrap, child_env, connection, resolve_warehouse
from tests.conftest import clear_landing, write_lines
from tests.integration.test_marts import HISTORICAL_CSV, ORDER_ID, SHOPIFY, page, segment

pytestmark = pytest.mark.integration

PEOPLE = 150
INCREMENTS = 3
VISITOR = "anon-incremental-visitor"
VISITOR_EMAIL = "late.linker@example.dev"
BRIDGER = "anon-incremental-bridger"
ALIASED = "anon-incremental-aliased"
CONSENT = "Segment Consent Preference Updated"
SOURCES = ("segment", "sendgrid", "shopify", "social", "historical_orders")
EVENT_TABLES = [f"intermediate.int_events_from_{s}" for s in ("segment", "sendgrid", "shopify", "store", "social")]
PROFILE_TABLES = [
    f"intermediate.int_profile_{name}"
    for name in (
        "attributes_latest",
        "consent_latest",
        "engagement_summarized",
        "first_touch",
        "interests_ranked",
        "orders_summarized",
        "subscription_latest",
    )
]
IDENTITY_TABLES = ["intermediate.int_identity_edges", "intermediate.int_identity_identifiers"]
# relation -> the columns compared (audience_profile_base's updated_at is the build's now(); the
# identity tables' load_seq is the largest they aggregate, which an erasure can leave behind)
COMPARED = {
    "marts.audience_events": "*",
    **dict.fromkeys(PROFILE_TABLES, "*"),
    "intermediate.int_identity_edges": "left_type, left_value, right_type, right_value, right_region, edge_source,"
    " first_seen_at, last_seen_at, observations",
    "intermediate.int_identity_identifiers": "identifier_type, identifier_value, region, origin, first_seen_at,"
    " last_seen_at, observations",
}
BASE = "marts.audience_profile_base"
CHANGE_STATE = ("intermediate.audience_events_profile_changes", "intermediate.audience_events_profile_consumers")


def split_sample(folder: Path) -> list[dict[str, list[str]]]:
    """The sample's landing lines per source, dealt at random into the base (85%) and the
    increments (5% each); a CSV part keeps the header."""
    rng = random.Random(15)
    parts: list[dict[str, list[str]]] = [{source: [] for source in SOURCES} for _ in range(INCREMENTS + 1)]
    for source in SOURCES:
        for path in sorted((folder / "landing" / source).iterdir()):
            lines = path.read_text().splitlines()
            header = [lines.pop(0)] if path.suffix == ".csv" else []
            for part in parts:
                if header and not part[source]:
                    part[source].extend(header)
            for line in lines:
                draw = rng.random()
                index = 0 if draw < 0.85 else 1 + min(INCREMENTS - 1, int((draw - 0.85) / 0.05))
                parts[index][source].append(line)
    return parts


def visitor_lines() -> list[list[str]]:
    """The hand-written visitors' Segment calls, per step."""
    bridger = bridger_lines()
    base = [
        page("vis-1", "2026-06-02 09:00:00", VISITOR, path="/c/maps"),
        page("vis-2", "2026-06-02 09:20:00", VISITOR, path="/p/globe"),
        page("vis-3", "2026-07-15 18:00:00", VISITOR, path="/"),
    ]
    # an alias whose previousId the next step shows to be a user id: the identity tables retype it
    alias = segment("al-1", "alias", "2026-07-01 10:00:00", ALIASED, "user-alias-new", previousId="user-alias-old")
    continues_session = [
        page("vis-4", "2026-07-15 18:10:00", VISITOR, path="/p/atlas"),
        page("al-2", "2026-06-20 10:00:00", ALIASED, "user-alias-old"),
    ]
    identifies = [
        segment(
            "vis-5", "identify", "2026-07-20 08:00:00", VISITOR, "user-late-linker", traits={"email": VISITOR_EMAIL}
        ),
        # a late page of last month, inside the first session: it joins it
        page("vis-6", "2026-06-02 09:40:00", VISITOR, path="/p/compass"),
    ]
    return [base + [alias] + bridger[0], continues_session + bridger[1], identifies + bridger[2], bridger[3]]


def consent(message_id: str, when: str, anonymous_id: str, analytics: bool) -> str:
    preferences = {"Advertising": False, "Analytics": analytics}
    return segment(
        message_id,
        "track",
        when,
        anonymous_id,
        event=CONSENT,
        properties={},
        context={"consent": {"categoryPreferences": preferences}},
    )


def bridger_lines() -> list[list[str]]:
    """A second visitor, anonymous until the last step, whose late calls change sessions and
    consent far back in history: a page bridging two sessions, a page at the same moment as an
    earlier one, an opt-out arriving late (dropping behaviour already built), an opt-in, then an
    identify that moves the consent windows from the anonymous id to a profile."""
    day = "2026-05-11"
    return [
        [
            page("br-1", f"{day} 08:00:00", BRIDGER),
            page("br-2", f"{day} 08:25:00", BRIDGER),
            page("br-3", f"{day} 08:50:00", BRIDGER),  # 08:00-08:50, one session
            page("br-4", f"{day} 10:00:00", BRIDGER),
            page("br-5", f"{day} 10:40:00", BRIDGER),  # 40 minutes later: another session
            page("br-9", "2026-05-20 12:00:00", BRIDGER),
        ],
        [
            page("br-6", f"{day} 10:20:00", BRIDGER),  # late: br-4 and br-5 become one session
            page("br-7", f"{day} 08:50:00", BRIDGER),  # the same moment as br-3
        ],
        [consent("br-8", f"{day} 08:30:00", BRIDGER, analytics=False)],  # late opt-out
        [
            consent("br-10", f"{day} 10:10:00", BRIDGER, analytics=True),  # opt back in
            segment(
                "br-11", "identify", "2026-05-21 08:00:00", BRIDGER, "user-bridger", traits={"email": "br@example.dev"}
            ),
        ],
    ]


def write_step(landing: Path, step: int, part: dict[str, list[str]], extra_segment: list[str]) -> None:
    if step == 0:  # a store order (and an older one) whose Shopify order arrives in the next step
        part["historical_orders"] += HISTORICAL_CSV.splitlines()[1:]
    if step == 1:
        part["shopify"] += [line for line in SHOPIFY if json.loads(line)["id"] == ORDER_ID]
    for source, lines in part.items():
        if source == "historical_orders":
            if len(lines) > 1:
                path = landing / source / f"orders-step{step}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(lines) + "\n")
        elif lines or (source == "segment" and extra_segment):
            write_lines(
                landing / source / f"part-step{step}.jsonl", lines + (extra_segment if source == "segment" else [])
            )


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def run_events_assets() -> None:
    """The refresh job's assets up to audience_profile_base, as a refresh runs them."""
    from audience_dagster.definitions import defs

    job = defs.resolve_job_def("audience_refresh")
    graph = defs.resolve_asset_graph()
    keys = [
        key
        for key in dg.AssetSelection.assets(PROFILE_BASE_KEY).upstream().resolve(graph)
        if graph.get(key).is_materializable
    ]
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=False)
    assert result.success, [event.message for event in result.all_events if event.is_failure]


def dbt(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **child_env(resolve_warehouse(load_settings()))}
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args]
        + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )


def dbt_run(select: str, *, full_refresh: bool = True) -> None:
    done = dbt("run", *(["--full-refresh"] if full_refresh else []), "--select", *select.split())
    assert done.returncode == 0, done.stdout[-3000:]


def differing_rows(url: str, relation: str, columns: str = "*") -> tuple[int, int, int]:
    """(rows only in the incremental copy, rows only in the full build, rows of the full build)."""
    copy = copy_name(relation)
    (counts,) = rows(
        url,
        f"""
        SELECT
            (SELECT count(*) FROM (SELECT {columns} FROM {copy} EXCEPT ALL SELECT {columns} FROM {relation}) AS a),
            (SELECT count(*) FROM (SELECT {columns} FROM {relation} EXCEPT ALL SELECT {columns} FROM {copy}) AS b),
            (SELECT count(*) FROM {relation})
        """,
    )
    return counts


def copy_name(relation: str) -> str:
    return "public.copy_of_" + relation.replace(".", "__")


def copy_aside(url: str, relations: list[str]) -> None:
    with connection(url) as conn, conn.cursor() as cur:
        for relation in relations:
            copy = copy_name(relation)
            cur.execute(f"DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} AS TABLE {relation}")
        conn.commit()


def restore(url: str, relations: tuple[str, ...]) -> None:
    """Put the copies of ``relations`` back (their contents, in place)."""
    with connection(url) as conn, conn.cursor() as cur:
        for relation in relations:
            cur.execute(f"DELETE FROM {relation}; INSERT INTO {relation} SELECT * FROM {copy_name(relation)}")
        conn.commit()


def base_columns(url: str) -> str:
    names = rows(
        url,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
        " AND table_name = 'audience_profile_base' AND column_name <> 'updated_at' ORDER BY ordinal_position",
    )
    return ", ".join(name for (name,) in names)


@pytest.fixture(scope="module")
def steps(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict]]:
    """Base and increments built step by step; per step what the comparison found."""
    folder = tmp_path_factory.mktemp("incremental_sample")
    generate(PEOPLE, 15, folder, end=date(2026, 11, 30))
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "marts", "privacy"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    landing = clear_landing()
    prepare_runtime()
    found: list[dict] = []
    for step, (part, extra) in enumerate(zip(split_sample(folder), visitor_lines(), strict=True)):
        if step == INCREMENTS:
            with connection(warehouse_url) as conn:
                erase_person(conn, Lookup("email", VISITOR_EMAIL))
        write_step(landing, step, part, extra)
        run_events_assets()
        visitor = rows(
            warehouse_url,
            "SELECT source_record_id, profile_id, session_id FROM marts.audience_events"
            " WHERE anonymous_id IN (%s, %s) ORDER BY occurred_at",
            (VISITOR, BRIDGER),
        )
        alias_types = rows(
            warehouse_url,
            "SELECT right_type FROM intermediate.int_identity_edges WHERE edge_source = 'segment.alias'"
            " AND left_value = 'user-alias-new' UNION ALL SELECT identifier_type"
            " FROM intermediate.int_identity_identifiers WHERE identifier_value = 'user-alias-old'"
            " AND origin = 'alias_previous_id'",
        )
        compared = {**COMPARED, BASE: base_columns(warehouse_url)}
        copy_aside(warehouse_url, [*compared, *CHANGE_STATE])
        logged = rows(
            warehouse_url,
            f"SELECT count(*) FILTER (WHERE profile_id IS NOT NULL), count(*) FILTER (WHERE profile_id IS NULL),"
            f" (SELECT min(generation) FROM {CHANGE_STATE[1]}), max(generation) FROM {CHANGE_STATE[0]}",
        )[0]
        last = step == INCREMENTS
        models = " ".join(t.split(".")[1] for t in [*IDENTITY_TABLES, "marts.audience_events", *PROFILE_TABLES, BASE])
        dbt_run(("path:models/intermediate/events " if last else "") + models)
        found.append(
            {
                "step": step,
                "visitor": visitor,
                "alias_types": sorted(kind for (kind,) in alias_types),
                "logged": logged,
                "compared": {
                    relation: differing_rows(warehouse_url, relation, columns) for relation, columns in compared.items()
                },
            }
        )
        restore(warehouse_url, CHANGE_STATE)
    yield found


def test_every_step_equals_a_full_build_of_the_same_data(steps: list[dict]) -> None:
    for step in steps:
        for relation, (only_incremental, only_full, total) in step["compared"].items():
            assert total > 0, relation
            assert (step["step"], relation, only_incremental, only_full) == (step["step"], relation, 0, 0)


def test_the_profile_tables_read_only_the_changed_profiles(steps: list[dict]) -> None:
    """Step 0 is a full build (the marker); each increment logged the profiles it changed under
    a newer generation, which every per-profile table then read up to."""
    (changed, markers, consumed, latest) = steps[0]["logged"]
    assert (changed, markers, consumed) == (0, 1, latest)
    for step in steps[1:]:
        (changed, markers, consumed, latest) = step["logged"]
        assert changed > 0 and consumed == latest > steps[0]["logged"][3], step


def test_the_increments_touch_history(steps: list[dict], warehouse_url: str) -> None:
    """The scenarios the comparison covers happened: a session continued across the boundary,
    a late event joined a session of last month, an identify linked anonymous history, the
    erased visitor is gone, and a store order was superseded by a Shopify order loaded later."""
    by_step = {
        step["step"]: {record: (profile, session) for record, profile, session in step["visitor"]} for step in steps
    }
    assert by_step[1]["vis-4"][1] == by_step[1]["vis-3"][1]  # 10 minutes later: same session
    assert by_step[2]["vis-6"][1] == by_step[2]["vis-1"][1]  # late, 20 minutes after vis-2
    assert by_step[2]["vis-1"][0] is not None and by_step[2]["vis-1"][0] == by_step[2]["vis-5"][0]
    assert not any(record.startswith("vis-") for record in by_step[INCREMENTS])
    # the bridger: a late page joins two sessions; an opt-out arriving late drops the behaviour
    # after it; an opt-in brings back what follows it; an identify gives it all a profile
    first = by_step[1]
    assert first["br-4"][1] == first["br-6"][1] == first["br-5"][1] != first["br-3"][1] == first["br-7"][1]
    assert {"br-3", "br-4", "br-5", "br-6", "br-7", "br-9"}.isdisjoint(by_step[2]) and {"br-2", "br-8"} <= set(
        by_step[2]
    )
    last = by_step[INCREMENTS]
    assert {"br-5", "br-6", "br-9", "br-10", "br-11"} <= set(last) and {"br-3", "br-4"}.isdisjoint(last)
    assert last["br-1"][0] is not None and last["br-1"][0] == last["br-11"][0]
    (superseded, counted) = rows(
        warehouse_url,
        """
        SELECT count(*), (SELECT count(*) FROM marts.audience_events WHERE source_record_id = %s)
        FROM intermediate.int_events_from_store AS store
        JOIN intermediate.int_events_from_shopify AS shopify ON shopify.source_record_id = store.shopify_order_id
        WHERE shopify.load_seq > store.load_seq AND store.shopify_order_id = %s
        """,
        (str(ORDER_ID), str(ORDER_ID)),
    )[0]
    assert (superseded, counted) == (1, 1)  # the order counts once, as Shopify's
    # an alias's previousId, anonymous until a later record names it as a user id: retyped
    assert [step["alias_types"] for step in steps[:2]] == [["anonymous_id"] * 2, ["user_id"] * 2]


def test_late_events_land_in_their_months_partition(steps: list[dict], warehouse_url: str) -> None:
    (misplaced,) = rows(
        warehouse_url,
        """
        SELECT count(*) FROM marts.audience_events AS e
        JOIN pg_class AS partition ON partition.oid = e.tableoid
        WHERE partition.relname <> 'audience_events_' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY_MM')
        """,
    )[0]
    assert misplaced == 0


def test_the_raw_tables_carry_an_increasing_load_sequence(steps: list[dict], warehouse_url: str) -> None:
    (segment_rows, numbered, distinct) = rows(
        warehouse_url, "SELECT count(*), count(load_seq), count(DISTINCT load_seq) FROM raw.segment_messages"
    )[0]
    assert segment_rows == numbered == distinct > 0
    # a later file's rows have larger numbers than every row loaded before it
    (out_of_order,) = rows(
        warehouse_url,
        """
        SELECT count(*) FROM raw.segment_messages AS later
        JOIN raw.segment_messages AS earlier
            ON earlier.loaded_at < later.loaded_at AND earlier.load_seq > later.load_seq
        """,
    )[0]
    assert out_of_order == 0
    for table in EVENT_TABLES:
        assert rows(warehouse_url, f"SELECT count(load_seq) = count(*) FROM {table}")[0] == (True,)


def test_an_identity_table_built_before_it_was_incremental_is_rebuilt_in_full(
    steps: list[dict], warehouse_url: str
) -> None:
    """A warehouse from before the identity tables were incremental (no load_seq, no origin, no
    checkpoint): the next build, not a full refresh, adds the columns and rebuilds them in full."""
    copy_aside(warehouse_url, IDENTITY_TABLES)
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for table in IDENTITY_TABLES:
            cur.execute(f"ALTER TABLE {table} DROP COLUMN load_seq; DROP TABLE {table}_checkpoint")
        cur.execute("ALTER TABLE intermediate.int_identity_identifiers DROP COLUMN origin")
        cur.execute("INSERT INTO intermediate.int_identity_edges SELECT * FROM intermediate.int_identity_edges LIMIT 5")
        conn.commit()
    dbt_run(" ".join(t.split(".")[1] for t in IDENTITY_TABLES), full_refresh=False)
    for table in IDENTITY_TABLES:
        only_new, only_before, total = differing_rows(warehouse_url, table, COMPARED[table])
        assert (only_new, only_before) == (0, 0) and total > 0, table
        (checkpoint,) = rows(warehouse_url, f"SELECT count(*) FROM {table}_checkpoint")[0]
        assert checkpoint == 1
