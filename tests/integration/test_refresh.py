"""`audience refresh` as a user runs it (real processes, each warehouse in its own database):

* two refreshes started at once both complete — one waits for the other, then finds nothing new,
  so the warehouse is the one a single refresh builds;
* ``refresh --full`` on a built warehouse rebuilds every asset (job ``audience_full_rebuild``)
  and leaves the warehouse it found; each dbt table reports its row count;
* a refresh with nothing new is answered from the last refresh's stamp without starting Dagster,
  and anything the stamp covers (a setting, a file loaded another way, a refresh in progress, a
  touched landing file) sends it down the normal path, which finds nothing to rebuild;
* a refresh killed (``kill -9``) in the middle of a dbt build leaves no dbt process and no
  PostgreSQL session behind; the next refresh marks the killed run failed, rebuilds what the
  killed one did not finish, and ends with the warehouse of a refresh that was never killed.

The clock is pinned (``AUDIENCE_AS_OF``) so separate warehouses can be compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest

from audience_dagster.warehouse.connection import connection
from tests.conftest import admin, fresh_database

pytestmark = pytest.mark.integration

AS_OF = "2026-11-01T00:00:00+00:00"
FINGERPRINT_SQL = {
    "raw": "SELECT (SELECT count(*) FROM raw.segment_messages), (SELECT count(*) FROM raw.sendgrid_events),"
    " (SELECT count(*) FROM raw.shopify_orders), (SELECT count(*) FROM raw.historical_orders),"
    " (SELECT count(*) FROM raw.quarantine), (SELECT count(*) FROM raw.loaded_files)",
    "identity": "SELECT count(*), count(DISTINCT profile_id) FROM identity.identity_map",
    "events": "SELECT count(*), sum(revenue), count(DISTINCT session_id) FROM marts.audience_events",
    "profiles": "SELECT count(*), sum(total_orders), sum(total_revenue), sum(total_events)"
    " FROM marts.audience_profiles",
    "scores": "SELECT count(*), sum(engagement_score), sum(wtp_score), sum(lead_score), sum(health_score),"
    " min(scored_at)::text, max(scored_at)::text FROM marts.profile_scores",
    "lifecycle": "SELECT lifecycle_stage, count(*) FROM marts.profile_scores GROUP BY 1 ORDER BY 1",
    "rfm": "SELECT rfm_segment, count(*) FROM marts.profile_scores GROUP BY 1 ORDER BY 1",
    "predictions": "SELECT prediction_type, count(*), round(sum(predicted_value)::numeric, 2),"
    " min(predicted_at)::text FROM marts.predictions GROUP BY 1 ORDER BY 1",
    "segments": "SELECT slug, member_count FROM marts.micro_segments ORDER BY 1",
    "cohorts": "SELECT count(*), count(exited_at) FROM marts.cohort_membership",
    "reports": "SELECT (SELECT count(*) FROM marts.report_wtp_distribution),"
    " (SELECT count(*) FROM marts.report_segment_performance), (SELECT count(*) FROM marts.cohort_retention_matrix)",
}


@dataclass(frozen=True)
class Warehouse:
    url: str
    home: Path
    env: dict[str, str]


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def fingerprint(url: str) -> dict[str, list[tuple]]:
    """What the warehouse holds, independent of generated ids (profile ids are random)."""
    with connection(url) as conn, conn.cursor() as cur:
        found = {}
        for name, sql in FINGERPRINT_SQL.items():
            cur.execute(sql)
            found[name] = cur.fetchall()
        return found


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from audience_dagster.sample_data import generate

    out = tmp_path_factory.mktemp("refresh_sample")
    generate(250, 3, out, end=date(2026, 10, 31), malformed_rate=0.001)
    return out / "landing"


@pytest.fixture(scope="module")
def new_warehouse(warehouse_url: str, sample: Path, tmp_path_factory: pytest.TempPathFactory):
    created: list[str] = []

    def make(name: str) -> Warehouse:
        database = f"{database_name(warehouse_url)}_{name}"
        url = fresh_database(warehouse_url, database)
        created.append(database)
        home = tmp_path_factory.mktemp(f"home_{name}")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "AUDIENCE_HOME": str(home),
            "AUDIENCE_LANDING_DIR": str(sample),
            "AUDIENCE_MODELS_DIR": str(home / "models"),
            "AUDIENCE_AS_OF": AS_OF,
        }
        return Warehouse(url, home, env)

    yield make
    admin(warehouse_url, *(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)" for database in created))


def start_refresh(warehouse: Warehouse, tag: str, *options: str) -> subprocess.Popen:
    out = (warehouse.home / f"{tag}.out").open("w")
    err = (warehouse.home / f"{tag}.err").open("w")
    command = [sys.executable, "-m", "audience_dagster.cli", "refresh", *options]
    return subprocess.Popen(command, env=warehouse.env, stdout=out, stderr=err, cwd=Path(__file__).parents[2])


def finish(process: subprocess.Popen, warehouse: Warehouse, tag: str, timeout: float = 2400) -> tuple[int, str]:
    code = process.wait(timeout=timeout)
    return code, (warehouse.home / f"{tag}.err").read_text() + (warehouse.home / f"{tag}.out").read_text()


@pytest.fixture(scope="module")
def pair(new_warehouse) -> tuple[list[tuple[int, str]], dict[str, list[tuple]], Warehouse]:
    """Two refreshes started at once in a fresh warehouse: their (exit code, output), what the
    warehouse holds after them, and the warehouse."""
    warehouse = new_warehouse("two")
    first, second = start_refresh(warehouse, "a"), start_refresh(warehouse, "b")
    outcomes = [finish(first, warehouse, "a"), finish(second, warehouse, "b")]
    return outcomes, fingerprint(warehouse.url), warehouse


def test_two_refreshes_at_once_both_complete_one_after_the_other(pair) -> None:
    outcomes, built, _ = pair
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    waited = [out for _, out in outcomes if "another refresh is running" in out]
    assert len(waited) == 1, outcomes  # one queued behind the other...
    # ...and then found nothing to do: the warehouse is what the other, single refresh built
    assert "the other refresh finished" in waited[0] and "refresh: nothing new" in waited[0]
    [ran] = [out for _, out in outcomes if out is not waited[0]]
    assert "new file(s)" in ran and "nothing new" not in ran
    assert built["scores"][0][0] > 0 and built["segments"]


def latest_materialization(url: str, key: str):
    """The latest materialisation event of an asset (``["schema", "table"]`` as JSON), from the
    instance's event log in the warehouse."""
    from dagster._serdes import deserialize_value

    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT event FROM public.event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
            " AND asset_key = %s ORDER BY id DESC LIMIT 1",
            (key,),
        )
        return deserialize_value(cur.fetchone()[0]).asset_materialization


def test_a_full_rebuild_rebuilds_every_asset_and_leaves_the_same_warehouse(pair) -> None:
    _, built, warehouse = pair
    code, output = finish(start_refresh(warehouse, "full", "--full"), warehouse, "full")
    assert code == 0, output
    assert "nothing new" not in output and "asset(s) rebuilt" in output
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pipeline_name FROM public.runs ORDER BY id DESC LIMIT 1")
        assert cur.fetchone()[0] == "audience_full_rebuild"
        cur.execute("SELECT count(*) FROM marts.audience_events")
        events = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM marts.audience_profile_base")
        profiles = cur.fetchone()[0]
    assert fingerprint(warehouse.url) == built  # the same data, the same warehouse
    # row counts from dbt's own results (no count(*) thread pool): exact, for tables and partitions
    for key, rows in (('["marts", "audience_events"]', events), ('["marts", "audience_profile_base"]', profiles)):
        assert latest_materialization(warehouse.url, key).metadata["dagster/row_count"].value == rows > 0


def test_a_refresh_with_nothing_new_is_decided_without_starting_dagster(pair, sample: Path) -> None:
    from audience_dagster.config import load_settings
    from audience_dagster.runs.lock import RefreshLock
    from audience_dagster.runs.stamp import up_to_date
    from audience_dagster.warehouse.connection import resolve_warehouse

    _, built, warehouse = pair
    code, output = finish(start_refresh(warehouse, "noop"), warehouse, "noop")
    assert code == 0 and "refresh: nothing new" in output and "Dagster not started" in output, output
    assert "INFO:dagster" not in output

    settings = load_settings(warehouse.env)
    located = resolve_warehouse(settings)
    assert up_to_date(settings, located) is not None
    assert up_to_date(load_settings({**warehouse.env, "AUDIENCE_AS_OF": "2027-01-01T00:00:00Z"}), located)
    assert up_to_date(load_settings({**warehouse.env, "AUDIENCE_IDENTITY_SHARED_VALUE_PEOPLE": "3"}), located) is None
    with RefreshLock(warehouse.url).acquire(wait=False):  # a refresh in progress: not known, queue behind it
        assert up_to_date(settings, located) is None
    with connection(warehouse.url) as conn, conn.cursor() as cur:  # a file imported outside the landing folder
        cur.execute(
            "INSERT INTO raw.loaded_files (source, file_sha256, file_path, file_bytes, lines, inserted, duplicates,"
            " quarantined) VALUES ('historical_orders', 'f00d', '/elsewhere/orders.csv', 1, 0, 0, 0, 0)"
        )
    assert up_to_date(settings, located) is None
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM raw.loaded_files WHERE file_sha256 = 'f00d'")
    assert up_to_date(settings, located) is not None

    # a landing file touched (same bytes, new mtime): the normal path runs, hashes it, finds it
    # loaded and notes its new mtime; nothing is rebuilt and the next refresh is quick again
    landing_file = next((sample / "segment").glob("*.jsonl*"))
    earlier = landing_file.stat().st_mtime_ns - 60 * 10**9
    os.utime(landing_file, ns=(earlier, earlier))
    assert up_to_date(settings, located) is None
    code, output = finish(start_refresh(warehouse, "touched"), warehouse, "touched")
    assert code == 0 and "refresh: nothing new" in output and "Dagster not started" not in output, output
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT file_mtime_ns FROM raw.loaded_files WHERE source = 'segment' AND file_path = %s",
            (str(landing_file.relative_to(sample)),),
        )
        assert cur.fetchone()[0] == landing_file.stat().st_mtime_ns
    assert up_to_date(settings, located) is not None
    assert fingerprint(warehouse.url) == built


def dbt_processes(process: psutil.Process) -> list[psutil.Process]:
    """The `dbt build` processes under ``process``, once the audience-dbt wrapper became dbt."""
    found = []
    for child in process.children(recursive=True):
        try:
            if child.name() == "dbt" and "build" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def sessions(url: str) -> int:
    """Sessions on the database other than this one."""
    database = database_name(url)
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
        return int(cur.fetchone()[0])


def wait_until(condition, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_a_killed_refresh_leaves_no_orphans_and_the_next_one_repairs_the_warehouse(pair, new_warehouse) -> None:
    warehouse = new_warehouse("kill")
    refresh = start_refresh(warehouse, "killed")
    parent = psutil.Process(refresh.pid)
    seen: set[int] = set()

    def second_dbt_build() -> list[psutil.Process]:  # kill inside dbt_profiles, after identity
        running = dbt_processes(parent)
        seen.update(p.pid for p in running)
        return running if len(seen) >= 2 else []

    [dbt] = wait_until(second_dbt_build, 1800, "the second dbt build")
    assert os.getpgid(dbt.pid) == dbt.pid  # dbt runs in a process group of its own
    refresh.kill()  # kill -9: the CLI gets no chance to clean up
    refresh.wait()
    _, alive = psutil.wait_procs([dbt], timeout=30)
    assert alive == [], "dbt outlived the refresh that started it"
    wait_until(lambda: sessions(warehouse.url) == 0, 60, "the killed refresh's sessions to end")
    code, output = finish(start_refresh(warehouse, "again"), warehouse, "again")
    assert code == 0, output
    assert "marked failed" in output
    assert fingerprint(warehouse.url) == pair[1]  # what a refresh that was never killed built
    statuses = run_statuses(warehouse)
    assert statuses.count("FAILURE") == 1 and "STARTED" not in statuses


def run_statuses(warehouse: Warehouse) -> list[str]:
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM public.runs ORDER BY id")
        return [row[0] for row in cur.fetchall()]
