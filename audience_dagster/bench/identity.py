"""``audience bench identity``: identity resolution at scale, in memory and in the warehouse.

1. The pure solver on a synthetic graph (~5M edges for 2.1M people; see
   :mod:`audience_dagster.bench.identity_graph`).
2. The warehouse path on a generated sample (default 1M people) in a scratch database
   (``audience_bench_identity``, dropped afterwards unless ``--keep``): ingest, the dbt models
   that build the graph, the identity rebuild by stage (read, graph, resolve, assign, write),
   a second rebuild (ids must be stable: ``rebuild_new_profiles=0``), then every dbt model
   downstream of the identity map (the events and profiles marts), timed per model (unless
   ``--skip-downstream``).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from audience_dagster.bench.database import BENCH_DB, bench_database_url, drop_bench_database
from audience_dagster.bench.identity_graph import time_resolution
from audience_dagster.bench.ingest import bench_sample, ingest_sample
from audience_dagster.config import DBT_PROJECT_DIR, process_environment
from audience_dagster.errors import AudienceError
from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.warehouse.connection import Warehouse, bootstrap, child_env, connection

BENCH_IDENTITY_DB = f"{BENCH_DB}_identity"
# the same split as the two dbt asset groups: everything not downstream of the identity map, then the rest
DOWNSTREAM_MODELS = "source:identity+"


def dbt_run(url: str, select: str, exclude: str = "") -> dict[str, float]:
    """``dbt run --select … [--exclude …]`` against ``url``; seconds per model from dbt's run results."""
    with tempfile.TemporaryDirectory() as target:
        env = process_environment(child_env(Warehouse(url=url, dagster_url=url, embedded=False)))
        command = ["dbt", "run", "--select", select, *(["--exclude", exclude] if exclude else [])]
        command += ["--project-dir", str(DBT_PROJECT_DIR)]
        command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", target]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        results_file = Path(target) / "run_results.json"
        if done.returncode != 0 or not results_file.exists():
            raise AudienceError(f"dbt run --select {select} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        results = json.loads(results_file.read_text())["results"]
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"]) for r in results}


def run_identity_bench(
    people: int,
    seed: int,
    workers: int,
    reuse: bool,
    keep: bool,
    solver_people: int,
    drop_sample: bool,
    skip_downstream: bool = False,
) -> dict[str, object]:
    figures: dict[str, object] = {}
    solver = time_resolution(solver_people)
    figures.update({f"solver_{k}": solver[k] for k in ("edges", "nodes", "resolve_s", "peak_rss_during_resolve_mb")})
    print(f"[solver] {int(solver['edges']):,} edges resolved in {solver['resolve_s']:.1f}s", file=sys.stderr)

    out, generated = bench_sample(people, seed, workers, reuse)
    figures.update(generated)
    url = bench_database_url(BENCH_IDENTITY_DB)
    bootstrap(url)
    loaded = ingest_sample(url, out / "landing", workers)
    figures.update(ingest_records=loaded["ingest_records"], ingest_seconds=loaded["ingest_seconds"])
    if drop_sample:
        shutil.rmtree(out, ignore_errors=True)

    started = time.perf_counter()
    graph_models = dbt_run(url, "fqn:*", exclude=DOWNSTREAM_MODELS)
    figures["dbt_graph_seconds"] = time.perf_counter() - started
    for model in ("int_identity_edges", "int_identity_identifiers"):
        figures[f"dbt_{model}_s"] = graph_models.get(model, 0.0)
    print(f"[dbt] staging and identity graph models in {figures['dbt_graph_seconds']:.1f}s", file=sys.stderr)

    with connection(url) as conn:
        for attempt in ("build", "rebuild"):
            started = time.perf_counter()
            run = resolve_warehouse_identities(conn)
            figures[f"identity_{attempt}_seconds"] = time.perf_counter() - started
            for stage, seconds in run.seconds.items():
                figures[f"identity_{attempt}_{stage}_s"] = seconds
            figures[f"{attempt}_new_profiles"] = run.assignment.counts["new_profiles"]
            print(f"[identity] {attempt}: {figures[f'identity_{attempt}_seconds']:.1f}s {run.seconds}", file=sys.stderr)
    figures.update(
        identity_edges=len(run.graph.edge_u),
        identity_identifiers=len(run.frame),
        profiles=run.assignment.counts["profiles"],
    )

    if not skip_downstream:
        started = time.perf_counter()
        downstream = dbt_run(url, DOWNSTREAM_MODELS)
        figures["dbt_profiles_and_events_seconds"] = time.perf_counter() - started
        for model, seconds in downstream.items():
            figures[f"dbt_{model}_s"] = seconds
    with connection(url) as conn, conn.cursor() as cur:
        for table in ("marts.audience_events", "marts.audience_profiles"):
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            if cur.fetchone()[0]:
                cur.execute(f"SELECT count(*) FROM {table}")
                figures[f"{table.split('.')[1]}_rows"] = cur.fetchone()[0]
    drop_bench_database(url, BENCH_IDENTITY_DB, keep)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the headline figures last
    figures["identity_seconds"] = figures.pop("identity_build_seconds")
    figures["solver_seconds"] = figures.pop("solver_resolve_s")
    return figures
