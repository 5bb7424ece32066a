"""Clear outcomes on the real warehouse: nothing new → nothing materialised; a missing landing
folder, an unreadable or fully rejected CSV and a held refresh lock each give one line and a
non-zero exit; the embedded server waits for crash recovery.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest

from audience_dagster.cli import main
from audience_dagster.errors import RunInProgressError
from audience_dagster.ingest.assets import recorded_version
from audience_dagster.ingest.keys import HISTORICAL_ORDERS_KEY, LOADED_FILES_KEY, RAW_KEYS
from audience_dagster.ingest.orders_import import import_orders_file
from audience_dagster.runs.lock import RefreshLock
from audience_dagster.runtime import prepare_runtime
from audience_dagster.warehouse.connection import connection
from audience_dagster.warehouse.embedded import ensure_embedded
from tests.conftest import write_lines

pytestmark = pytest.mark.integration

MESSAGE = {
    "type": "track",
    "anonymousId": "anon-1",
    "event": "Product Viewed",
    "timestamp": "2026-03-01T10:00:00.000Z",
    "sentAt": "2026-03-01T10:00:00.500Z",
    "receivedAt": "2026-03-01T10:00:01.000Z",
}
ORDERS = "order_id,customer_id,order_date,amount\no-1,c-1,2026-02-01,12.50\no-2,c-2,2026-02-03,30.00\n"


def ingest_run() -> dg.ExecuteInProcessResult:
    from audience_dagster.definitions import defs

    with dg.DagsterInstance.get() as instance:
        return defs.resolve_job_def("audience_ingest").execute_in_process(instance=instance, raise_on_error=False)


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_an_ingest_pass_with_nothing_new_materialises_nothing(empty_raw: str, empty_landing: Path) -> None:
    landing = empty_landing
    write_lines(landing / "segment" / "a.jsonl", [json.dumps({**MESSAGE, "messageId": f"m{i}"}) for i in range(3)])
    prepare_runtime(parse_dbt=False)
    first = ingest_run()
    assert first.success and materialized(first) == {*RAW_KEYS, LOADED_FILES_KEY, dg.AssetKey(["raw", "quarantine"])}

    second = ingest_run()  # the same file again: loaded before
    assert second.success and materialized(second) == set()
    observed = {e.asset_key for e in second.all_events if e.event_type_value == "ASSET_OBSERVATION"}
    assert set(RAW_KEYS) <= observed

    # an order import outside the pass changes raw.historical_orders: the next pass reports it,
    # with a new data version for that table only
    with dg.DagsterInstance.get() as instance:
        before = {key: recorded_version(instance, key) for key in RAW_KEYS}
    csv = landing.parent / "orders.csv"
    csv.write_text(ORDERS)
    with connection(empty_raw) as conn:
        assert import_orders_file(conn, csv) == (0, f"{csv}: 2 orders imported, 0 duplicates, 0 quarantined")
    third = ingest_run()
    assert HISTORICAL_ORDERS_KEY in materialized(third)
    with dg.DagsterInstance.get() as instance:
        after = {key: recorded_version(instance, key) for key in RAW_KEYS}
    assert {key for key in RAW_KEYS if before[key] != after[key]} == {HISTORICAL_ORDERS_KEY}


def test_a_missing_landing_folder_fails_the_pass_saying_which_setting(
    empty_raw: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("AUDIENCE_LANDING_DIR", str(missing))
    assert main(["refresh"]) == 2
    err = capsys.readouterr().err
    assert f"the landing folder {missing} does not exist" in err and "AUDIENCE_LANDING_DIR" in err
    assert err.count("\n") == 1  # one line, no traceback

    empty = tmp_path / "empty"
    (empty / "segment").mkdir(parents=True)
    monkeypatch.setenv("AUDIENCE_LANDING_DIR", str(empty))
    assert main(["refresh"]) == 1  # work asked for, none possible
    assert "no landing files in" in capsys.readouterr().err


def test_import_orders_says_what_went_wrong_in_one_line(
    empty_raw: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good, rejected, binary = tmp_path / "good.csv", tmp_path / "rejected.csv", tmp_path / "sheet.xlsx"
    good.write_text(ORDERS)
    rejected.write_text("order_id,customer_id,order_date,amount\nx-1,c-1,someday,lots\nx-2,c-2,never,0,0\n")
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    cases = [
        (tmp_path / "missing.csv", 2, "no such file"),
        (tmp_path, 2, "is a folder"),
        (binary, 2, "is not a text file"),
        (rejected, 1, "every row was rejected (2 quarantined"),
        (good, 0, "2 orders imported"),
    ]
    for path, code, phrase in cases:
        assert main(["import-orders", str(path)]) == code, path
        out = capsys.readouterr()
        line = (out.err if code == 2 else out.out).strip().splitlines()[0]
        assert line.startswith(f"{path}: ") and phrase in line, line
        assert "Traceback" not in out.err
    assert main(["import-orders", str(good)]) == 0
    assert "already imported" in capsys.readouterr().out


def test_a_refresh_stops_with_a_clear_message_while_another_holds_the_lock(
    empty_raw: str, empty_landing: Path, capsys: pytest.CaptureFixture
) -> None:
    landing = empty_landing
    write_lines(landing / "segment" / "b.jsonl", [json.dumps({**MESSAGE, "messageId": "held"})])
    with RefreshLock(empty_raw, label="test holder").acquire():
        assert main(["refresh", "--no-wait"]) == 3
        err = capsys.readouterr().err
        assert "a refresh is already running" in err and "test holder" in err
        waiting = RefreshLock(empty_raw).acquire(wait=True, timeout_seconds=1, report=lambda m: None)
        with pytest.raises(RunInProgressError, match="still running after 1s"), waiting:
            pass
    with RefreshLock(empty_raw).acquire(wait=False):  # free once the holder's session ends
        pass


@pytest.fixture()
def server_dir() -> Iterator[Path]:
    """A folder for a server of its own, readable by the `pgserver` user pgserver runs it as
    under root (pytest's own temp folders are private to the user)."""
    folder = Path(tempfile.mkdtemp(prefix="audience-crash-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_embedded_server_waits_for_crash_recovery(server_dir: Path, capfd: pytest.CaptureFixture) -> None:
    pgdata = server_dir / "pg"
    url, _ = ensure_embedded(pgdata)
    with connection(url) as conn, conn.cursor() as cur:  # some WAL to replay, flushed at commit
        cur.execute("SET synchronous_commit = on")
        cur.execute("CREATE TABLE filler AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g")
    postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    backends = postmaster.children(recursive=True)
    postmaster.send_signal(signal.SIGKILL)  # a crash: no checkpoint, the WAL must be replayed
    psutil.wait_procs([postmaster, *backends], timeout=30)
    capfd.readouterr()
    url, _ = ensure_embedded(pgdata)  # recovers instead of giving up after pgserver's 10 s
    assert "did not shut down cleanly" in capfd.readouterr().err
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM filler")
        assert cur.fetchone()[0] == 200000
    server = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    server.send_signal(signal.SIGTERM)  # stop this test's server
    server.wait(timeout=60)
