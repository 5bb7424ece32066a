"""The migration runner on capabilities of its own (temporary sql/ folders): order, a failing
file rolled back and named, an edited file detected, two processes at once, dropped objects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from audience_dagster.errors import MigrationError
from audience_dagster.warehouse.connection import connect, connection
from audience_dagster.warehouse.migrations import LOCK_KEY, Capability, migrate, owned_relations, read_status

pytestmark = pytest.mark.integration


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


@pytest.fixture()
def shop(tmp_path: Path) -> Capability:
    folder = tmp_path / "shop"
    write(folder, "001_orders.sql", "CREATE SCHEMA shop; CREATE TABLE shop.orders (id int);")
    write(folder, "002_amount.sql", "ALTER TABLE shop.orders ADD COLUMN amount numeric NOT NULL DEFAULT 0;")
    return Capability("shop", folder)


def versions(url: str, name: str = "shop") -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT version, name FROM meta.schema_versions WHERE capability = %s ORDER BY 1", (name,))
        return cur.fetchall()


def test_pending_files_apply_in_order_once(scratch_database: Callable[[str], str], shop: Capability) -> None:
    url = scratch_database("runner")
    with connection(url) as conn:
        assert [m.name for m in migrate(conn, [shop])] == ["001_orders.sql", "002_amount.sql"]
        assert migrate(conn, [shop]) == []
        [status] = read_status(conn, [shop])
    assert (status.version, status.latest, status.state, status.adopting) == (2, 2, "up to date", False)
    assert versions(url) == [(1, "001_orders.sql"), (2, "002_amount.sql")]


def test_a_failing_migration_rolls_back_and_names_the_file(
    scratch_database: Callable[[str], str], shop: Capability
) -> None:
    url = scratch_database("runner")
    folder = Path(str(shop.folder))
    write(folder, "003_broken.sql", "CREATE TABLE shop.refunds (id int);\nSELECT 1 / 0;")
    with connection(url) as conn, pytest.raises(MigrationError) as failure:
        migrate(conn, [shop])
    message = str(failure.value)
    assert "shop/sql/003_broken.sql" in message and "division by zero" in message and "version 2" in message
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('shop.refunds')")
        assert cur.fetchone() == (None,)  # the failed file left nothing behind
    assert versions(url) == [(1, "001_orders.sql"), (2, "002_amount.sql")]
    write(folder, "003_broken.sql", "CREATE TABLE shop.refunds (id int);")
    with connection(url) as conn:
        assert [m.version for m in migrate(conn, [shop])] == [3]


def test_an_edited_applied_migration_is_detected(scratch_database: Callable[[str], str], shop: Capability) -> None:
    url = scratch_database("runner")
    with connection(url) as conn:
        migrate(conn, [shop])
    write(Path(str(shop.folder)), "001_orders.sql", "CREATE TABLE IF NOT EXISTS shop.orders (id bigint);")
    with connection(url) as conn, pytest.raises(MigrationError, match=r"shop/sql/001_orders.sql: changed since"):
        migrate(conn, [shop])
    with connection(url) as conn:
        [status] = read_status(conn, [shop])
        assert status.state == "edited after applying"
        assert migrate(conn, [shop], accept_edited=True) == []  # records the new checksum, runs nothing
        assert read_status(conn, [shop])[0].state == "up to date"


def test_a_warehouse_newer_than_the_code_is_refused(scratch_database: Callable[[str], str], shop: Capability) -> None:
    url = scratch_database("runner")
    with connection(url) as conn:
        migrate(conn, [shop])
        with conn.cursor() as cur:
            cur.execute("INSERT INTO meta.schema_versions VALUES ('shop', 9, '009_later.sql', 'x', now(), 1, false)")
        conn.commit()
        with pytest.raises(MigrationError, match=r"shop versions \[9\].*newer release"):
            migrate(conn, [shop])


def test_dropped_objects_are_created_again(scratch_database: Callable[[str], str], shop: Capability) -> None:
    url = scratch_database("runner")
    with connection(url) as conn:
        migrate(conn, [shop])
        with conn.cursor() as cur:
            cur.execute("INSERT INTO shop.orders VALUES (1, 5)")
            cur.execute("DROP SCHEMA shop CASCADE")
        conn.commit()
        assert read_status(conn, [shop])[0].dropped
        assert [m.version for m in migrate(conn, [shop])] == [1, 2]
        with conn.cursor() as cur:
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY 1")
            assert cur.fetchall() == [("amount",), ("id",)]
    assert versions(url) == [(1, "001_orders.sql"), (2, "002_amount.sql")]


def test_a_second_process_waits_and_then_finds_nothing_to_do(
    scratch_database: Callable[[str], str], shop: Capability
) -> None:
    """The holder of the lock migrates; the other one, started meanwhile, waits for it and then
    re-reads the versions instead of applying them a second time."""
    url = scratch_database("runner")
    holder = connect(url)
    results: dict[str, object] = {}

    def second() -> None:
        with connection(url) as conn:
            try:
                results["applied"] = migrate(conn, [shop])
            except Exception as exc:  # noqa: BLE001 - reported to the test thread
                results["error"] = exc

    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))
        holder.commit()
        thread = threading.Thread(target=second)
        thread.start()
        assert wait_for_advisory_waiter(holder), "the second process never waited for the lock"
        assert [m.version for m in migrate(holder, [shop])] == [1, 2]  # re-entrant: the holder migrates
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
        holder.commit()
        thread.join(timeout=60)
    finally:
        holder.close()
    assert results == {"applied": []}
    assert versions(url) == [(1, "001_orders.sql"), (2, "002_amount.sql")]


def wait_for_advisory_waiter(conn: psycopg2.extensions.connection, deadline_seconds: float = 30.0) -> bool:
    """Poll pg_locks until another session waits for an advisory lock (a condition, not a sleep)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            waiting = cur.fetchone()[0]
        conn.commit()
        if waiting:
            return True
        time.sleep(0.05)
    return False


def test_concurrent_bootstraps_of_an_empty_warehouse_both_succeed(scratch_database: Callable[[str], str]) -> None:
    from audience_dagster.warehouse.connection import bootstrap

    url = scratch_database("race")
    outcomes: list[object] = []

    def start() -> None:
        try:
            outcomes.append(len(bootstrap(url)))
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            outcomes.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sorted(outcomes)[:2] == [0, 0] and max(outcomes) > 0  # one migrated, the others found it done
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT (capability, version)) FROM meta.schema_versions")
        total, distinct = cur.fetchone()
    assert total == distinct == max(outcomes)


def test_file_names_and_relations_are_read_from_the_folder(tmp_path: Path) -> None:
    write(tmp_path / "a", "001_one.sql", "CREATE TABLE a.t (x int); -- CREATE TABLE a.commented (x int)")
    write(tmp_path / "a", "002_two.sql", "DROP TABLE IF EXISTS a.t; CREATE OR REPLACE VIEW a.v AS SELECT 1;")
    assert owned_relations(Capability("a", tmp_path / "a").migrations()) == ["a.v"]
    write(tmp_path / "b", "1_bad.sql", "SELECT 1")
    with pytest.raises(MigrationError, match=r"b/sql/1_bad.sql: not a migration name"):
        Capability("b", tmp_path / "b").migrations()
    write(tmp_path / "c", "001_one.sql", "SELECT 1")
    write(tmp_path / "c", "001_other.sql", "SELECT 1")
    with pytest.raises(MigrationError, match=r"both claim version 1"):
        Capability("c", tmp_path / "c").migrations()


def test_indexes_are_rebuilt_as_they_were(scratch_database: Callable[[str], str]) -> None:
    from audience_dagster.warehouse.indexes import drop_indexes

    url = scratch_database("indexes")
    catalogue = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 't' UNION ALL"
        " SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'shop.t'::regclass ORDER BY 1"
    )
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA shop; CREATE TABLE shop.t (id int PRIMARY KEY, a int, b text, UNIQUE (a, b));"
            " CREATE INDEX t_b_desc ON shop.t (b DESC) WHERE a > 0"
        )
        cur.execute(catalogue)
        before = cur.fetchall()
        plain = drop_indexes(cur, "shop.t")
        cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 't'")
        assert (len(plain), cur.fetchone()[0]) == (1, 2)  # the constraints' indexes stay
        rebuild = plain + drop_indexes(cur, "shop.t", constraints=True)
        cur.execute(catalogue)
        assert cur.fetchall() == []
        for statement in rebuild:
            cur.execute(statement)
        cur.execute(catalogue)
        assert cur.fetchall() == before
