"""``audience bench ingest``: generation and ingest throughput, beside raw COPY baselines.

Runs in a scratch database (``audience_bench`` on the embedded server, recreated each run, or
``AUDIENCE_BENCH_DATABASE_URL``) so the demo warehouse is never touched. Prints figures; it
asserts nothing.
"""

from __future__ import annotations

import csv
import io
import resource
import shutil
import sys
import time
from pathlib import Path

from audience_dagster.bench.database import BENCH_DB, bench_database_url, drop_bench_database
from audience_dagster.config import load_settings
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.landing import LineStream, find_landing_files
from audience_dagster.ingest.loader import load_directory, load_source
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.warehouse.connection import bootstrap, connection


def copy_plain_rows_per_s(url: str, rows: int = 1_000_000) -> float:
    """COPY of narrow plain rows (bigint, text, text, timestamptz, numeric) into a table."""
    data = b"".join(b"%d\tanon-%d\tpage\t2026-01-01 10:00:00+00\t12.50\n" % (i, i) for i in range(rows))
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_plain (a bigint, b text, c text, d timestamptz, e numeric)")
        started = time.perf_counter()
        cur.copy_expert("COPY bench_plain FROM STDIN", io.BytesIO(data))
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_plain")
    return rows / seconds


def valid_lines_file(path: Path, landing: Path, truth: Path) -> Path:
    """A copy of ``path`` without the lines the generator made malformed (for COPY baselines,
    which have no quarantine and would stop at the first bad line)."""
    relative = str(path.relative_to(landing))
    with (truth / "malformed.csv").open(newline="") as handle:
        bad = {int(row["line"]) for row in csv.DictReader(handle) if row["file"] == relative}
    clean = path.with_name(path.name + ".valid")
    with path.open("rb") as source, clean.open("wb") as target:
        for number, line in enumerate(source, start=1):
            if number not in bad:
                target.write(line)
    return clean


def copy_lines_per_s(url: str, path: Path, column_type: str) -> float:
    """COPY of one file's lines into a one-column table of ``column_type`` ('text' or 'jsonb'):
    what PostgreSQL itself costs, without validation, dedup or typed columns."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_copy (payload {column_type})")
        started = time.perf_counter()
        with path.open("rb") as handle:
            stream = LineStream(handle)
            cur.copy_expert("COPY bench_copy FROM STDIN", stream)
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_copy")
    return stream.lines / seconds


def bench_sample(people: int, seed: int, workers: int, reuse: bool) -> tuple[Path, dict[str, object]]:
    """The bench's generated sample folder (generated unless ``reuse`` finds one), with figures."""
    from audience_dagster.sample_data import generate

    out = load_settings().home / "bench" / f"people{people}_seed{seed}"
    figures: dict[str, object] = {"people": people}
    if not (reuse and (out / "truth" / "manifest.json").exists()):
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        report = generate(
            people,
            seed,
            out,
            workers=workers,
            progress=lambda d, t: print(f"\r[generate] {d}/{t}", end="", file=sys.stderr, flush=True),
        )
        gen_seconds = time.perf_counter() - started
        print(file=sys.stderr)
        figures.update(
            generate_seconds=gen_seconds,
            generated_events=report.events,
            generate_events_per_s=report.events / gen_seconds,
        )
    return out, figures


def ingest_sample(url: str, landing: Path, workers: int) -> dict[str, float]:
    """Load every landing source into the (bootstrapped) database at ``url``; figures per source."""
    settings = load_settings()
    figures: dict[str, float] = {}
    total_records = 0
    started = time.perf_counter()
    for source in JSON_SOURCES:
        load = load_source(url, source, landing, future_tolerance=settings.future_tolerance, workers=workers)
        records = load.total("records")
        total_records += records
        print(
            f"[ingest] {source.name:10s} {records:>11,d} records {load.seconds:7.1f}s "
            f"{records / max(load.seconds, 1e-9):>10,.0f}/s  inserted={load.total('inserted')}"
            f" duplicates={load.total('duplicates')} quarantined={load.total('quarantined')}",
            file=sys.stderr,
        )
        figures[f"{source.name}_seconds"] = load.seconds
    csv_load = load_directory(
        url, "historical_orders", landing / "historical_orders", "csv", load_orders_csv, workers=workers
    )
    total_records += csv_load.total("records")
    figures["historical_orders_seconds"] = csv_load.seconds
    figures["ingest_records"] = total_records
    figures["ingest_seconds"] = time.perf_counter() - started
    return figures


def run_ingest_bench(people: int, seed: int, workers: int, reuse: bool, keep: bool = False) -> dict[str, object]:
    out, figures = bench_sample(people, seed, workers, reuse)
    landing = out / "landing"
    url = bench_database_url()
    bootstrap(url)
    loaded = ingest_sample(url, landing, workers)
    figures.update({k: v for k, v in loaded.items() if k not in ("ingest_records", "ingest_seconds")})
    total_records, ingest_seconds = loaded["ingest_records"], loaded["ingest_seconds"]
    segment_file = max(find_landing_files(landing / "segment", "jsonl"), key=lambda p: p.stat().st_size)
    clean = valid_lines_file(segment_file, landing, out / "truth")
    text_rate = copy_lines_per_s(url, clean, "text")
    jsonb_rate = copy_lines_per_s(url, clean, "jsonb")
    clean.unlink()
    plain_rate = copy_plain_rows_per_s(url)
    drop_bench_database(url, BENCH_DB, keep)
    ingest_rate = total_records / ingest_seconds
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    figures.update(
        ingest_records=total_records,
        ingest_seconds=ingest_seconds,
        ingest_events_per_s=ingest_rate,
        copy_plain_rows_per_s=plain_rate,
        copy_text_lines_per_s=text_rate,
        copy_jsonb_lines_per_s=jsonb_rate,
        ratio_plain_copy_to_ingest=plain_rate / ingest_rate,
        ratio_jsonb_copy_to_ingest=jsonb_rate / ingest_rate,
        peak_rss_mb=peak_kb / 1024,
    )
    return figures
