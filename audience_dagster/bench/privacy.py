"""``audience privacy bench``: what suppressing erased people costs at ingest.

Loads the same generated sample twice into a scratch database (``audience bench ingest``'s,
recreated each time): once with an empty suppression list (the load statement is compiled
without the check, as in production until the first erasure), once after suppressing every
identifier of a share of the people plus unrelated hashes, like a warehouse with a history of
erasures. Prints wall-clock rates and, on the embedded server, the CPU seconds the server spent
(its postmaster's own and its exited backends' time: a fair comparison even on a busy machine).
Asserts nothing.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

from audience_dagster.config import load_settings
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import SourceLoad, load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.warehouse.connection import bootstrap, connection


def ingest_everything(url: str, landing: Path, workers: int) -> list[SourceLoad]:
    settings = load_settings()
    loads = [
        load_source(url, source, landing, future_tolerance=settings.future_tolerance, workers=workers)
        for source in JSON_SOURCES
    ]
    loads.append(
        load_directory(url, "historical_orders", landing / "historical_orders", "csv", load_orders_csv, workers=workers)
    )
    return loads


def suppress_people(url: str, truth: Path, share: float, unrelated: int) -> tuple[int, int]:
    """Suppress every identifier of the first ``share`` of the people (by id) and ``unrelated``
    hashes of nobody; (people suppressed, rows in the suppression list)."""
    with (truth / "identifiers.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    people = sorted({row["person_id"] for row in rows})
    chosen = set(people[: max(1, int(len(people) * share))])
    picked = [(row["identifier_type"], row["identifier_value"]) for row in rows if row["person_id"] in chosen]
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO privacy.suppressed_identifiers (identifier_type, value_sha256)"
            " SELECT DISTINCT t, privacy.identifier_sha256(t, v) FROM unnest(%s::text[], %s::text[]) AS i (t, v)"
            " WHERE privacy.identifier_sha256(t, v) IS NOT NULL"
            " UNION SELECT 'email', sha256(convert_to('nobody' || n || '@example.invalid', 'UTF8'))"
            " FROM generate_series(1, %s) AS n"
            " ON CONFLICT DO NOTHING",
            ([t for t, _ in picked], [v for _, v in picked], unrelated),
        )
        cur.execute("SELECT count(*) FROM privacy.suppressed_identifiers")
        return len(chosen), int(cur.fetchone()[0])


def server_cpu_seconds() -> float | None:
    """CPU seconds used so far by the embedded server and its exited children (None when the
    warehouse is not the embedded server on this machine)."""
    settings = load_settings()
    pid_file = settings.pgdata_dir / "postmaster.pid"
    if not settings.embedded or not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def _figures(prefix: str, loads: list[SourceLoad], seconds: float) -> dict[str, object]:
    records = sum(load.total("records") for load in loads)
    for load in loads:
        print(
            f"[{prefix}] {load.source:18s} {load.total('records'):>9,d} records {load.seconds:6.1f}s"
            f" inserted={load.total('inserted')} suppressed={load.total('suppressed')}"
            f" do_not_track={load.total('do_not_track')} quarantined={load.total('quarantined')}",
            file=sys.stderr,
        )
    return {
        f"{prefix}_records": records,
        f"{prefix}_seconds": seconds,
        f"{prefix}_records_per_s": records / max(seconds, 1e-9),
        f"{prefix}_suppressed": sum(load.total("suppressed") for load in loads),
    }


def run_suppression_bench(
    people: int, seed: int, workers: int, share: float = 0.01, unrelated: int = 10_000, rounds: int = 1
) -> dict[str, object]:
    from audience_dagster.bench.database import bench_database_url
    from audience_dagster.sample_data import generate

    out = load_settings().home / "bench" / f"people{people}_seed{seed}"
    if not (out / "truth" / "manifest.json").exists():
        generate(people, seed, out, workers=workers)
    figures: dict[str, object] = {"people": people}
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for _ in range(rounds):
        for label, suppress in (("plain", False), ("suppressing", True)):
            url = bench_database_url()
            bootstrap(url)
            if suppress:
                figures["people_suppressed"], figures["suppression_rows"] = suppress_people(
                    url, out / "truth", share, unrelated
                )
            cpu_before, started = server_cpu_seconds(), time.perf_counter()
            loads = ingest_everything(url, out / "landing", workers)
            best[label] = min(best.get(label, float("inf")), time.perf_counter() - started)
            cpu_after = server_cpu_seconds()
            if cpu_before is not None and cpu_after is not None:
                cpu[label] = min(cpu.get(label, float("inf")), cpu_after - cpu_before)
            figures.update(_figures(label, loads, best[label]))
    figures["overhead_pct"] = 100 * (best["suppressing"] / best["plain"] - 1)
    if len(cpu) == 2:
        figures.update(
            plain_server_cpu_seconds=cpu["plain"],
            suppressing_server_cpu_seconds=cpu["suppressing"],
            cpu_overhead_pct=100 * (cpu["suppressing"] / cpu["plain"] - 1),
        )
    return figures
