"""The CLI commands that run the pipeline: ``refresh``, ``demo``, ``ui`` and ``import-orders``.

Each says what it did in one line, and exits non-zero when work was asked for and none was
possible: 0 done (or nothing new), 1 some step failed or every row was rejected, 2 bad input or
settings (the message says which), 3 another run holds the warehouse (``--no-wait``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audience_dagster.config import PROJECT_ROOT, Settings, export_environment, load_settings, parse_as_of

if TYPE_CHECKING:  # the run machinery imports Dagster: loaded when a command needs it
    from audience_dagster.runs.refresh import RefreshOptions, RefreshOutcome
    from audience_dagster.runs.stamp import Stamp
    from audience_dagster.warehouse.connection import Warehouse


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _options(args: argparse.Namespace, label: str, as_of: datetime | None = None) -> RefreshOptions:
    from audience_dagster.runs.refresh import RefreshOptions

    given = getattr(args, "as_of", None)
    return RefreshOptions(
        as_of=parse_as_of(given, "--as-of") if given else as_of,
        rebuild_all=getattr(args, "rebuild_all", False),
        wait=not getattr(args, "no_wait", False),
        wait_timeout_seconds=getattr(args, "wait_timeout", None),
        label=label,
    )


def _conclude(outcome: RefreshOutcome, url: str, started: float, what: str) -> int:
    from audience_dagster.runs.progress import elapsed
    from audience_dagster.summary import print_results, print_stages, print_summary

    print_stages(outcome.stages)
    if not outcome.nothing_new:  # counting every table costs seconds per million rows: only after a change
        print_summary(url)
    print_results(url)
    took = elapsed(time.perf_counter() - started)
    if not outcome.ok:
        print(f"\n{what}: SOME STEPS FAILED after {took} (lines above; full log in {outcome.log_dir}/dagster.log).")
        return 1
    if outcome.nothing_new:
        print(
            f"\n{what}: nothing new — no landing file since the last run and nothing out of date, so nothing"
            f" was rebuilt ({took}). `audience refresh --full` rebuilds everything anyway."
        )
    else:
        print(
            f"\n{what}: done in {took} as of {outcome.as_of.isoformat()} — {outcome.files_loaded} new file(s),"
            f" {outcome.rebuilt} asset(s) rebuilt. Logs: {outcome.log_dir}/"
        )
    return 0


def _up_to_date(args: argparse.Namespace, settings: Settings, warehouse: Warehouse) -> Stamp | None:
    """The last refresh's stamp when nothing changed since (``runs/stamp.py``); never for ``--full``."""
    from audience_dagster.runs.stamp import up_to_date

    return None if getattr(args, "rebuild_all", False) else up_to_date(settings, warehouse)


def _conclude_up_to_date(stamp: Stamp, url: str, started: float, what: str) -> int:
    from audience_dagster.runs.progress import elapsed
    from audience_dagster.summary import print_results

    print_results(url)
    runs = f" (runs {', '.join(r[:8] for r in stamp.run_ids)})" if stamp.run_ids else ""
    print(
        f"\n{what}: nothing new — no landing file, raw table, identity decision, run, code or setting changed"
        f" since the refresh of {stamp.written_at}{runs}, so nothing was loaded or rebuilt"
        f" ({elapsed(time.perf_counter() - started)}, Dagster not started). `audience refresh --full` rebuilds"
        " everything anyway."
    )
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from audience_dagster.ingest.folders import landing_file_count
    from audience_dagster.runtime import prepare_dbt_manifest, prepare_runtime

    started = time.perf_counter()
    settings = load_settings()
    landing_file_count(settings.landing_dir)  # a missing folder fails here, before any start-up work
    warehouse = prepare_runtime(settings, parse_dbt=False)
    if stamp := _up_to_date(args, settings, warehouse):
        return _conclude_up_to_date(stamp, warehouse.url, started, "refresh")
    prepare_dbt_manifest(warehouse.url)
    from audience_dagster.runs.refresh import NothingToLoad, run_refresh

    try:
        outcome = run_refresh(settings, warehouse, _options(args, "refresh"))
    except NothingToLoad as exc:
        print(f"audience: {exc}", file=sys.stderr)
        return 1
    return _conclude(outcome, warehouse.url, started, "refresh")


def sample_end(sample: Path) -> datetime | None:
    """The instant the sample's observed data ends (its manifest), or None."""
    manifest = sample / "truth" / "manifest.json"
    if not manifest.exists():
        return None
    until = json.loads(manifest.read_text()).get("window", {}).get("observed_until")
    return parse_as_of(until, str(manifest)) if until else None


def ensure_sample(out: Path, people: int, seed: int, workers: int, fresh: bool) -> None:
    from audience_dagster.console import progress
    from audience_dagster.sample_data import generate

    manifest = out / "truth" / "manifest.json"
    if manifest.exists() and not fresh:
        params = json.loads(manifest.read_text()).get("parameters", {})
        if params.get("people") == people and params.get("seed") == seed:
            stderr(f"[demo] reusing the sample in {out} ({people} people, seed {seed}, data until {params.get('end')})")
            return
    if out.exists():
        shutil.rmtree(out)
    stderr(f"[demo] generating {people} people (seed {seed}) into {out}")
    generate(people, seed, out, workers=workers, progress=progress("generate"))


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate (or reuse) the sample and refresh as of the sample's end: the same result any day."""
    from audience_dagster.runtime import prepare_dbt_manifest, prepare_runtime

    started = time.perf_counter()
    sample = load_settings().sample_dir
    export_environment({"AUDIENCE_LANDING_DIR": str(sample / "landing")})
    ensure_sample(sample, args.people, args.seed, args.workers, args.fresh)
    stderr("[demo] starting the warehouse")
    settings = load_settings()
    warehouse = prepare_runtime(settings, parse_dbt=False)
    if stamp := _up_to_date(args, settings, warehouse):
        code = _conclude_up_to_date(stamp, warehouse.url, started, "demo")
        print("Open the Dagster UI on the same instance: `make ui`, then http://127.0.0.1:3000")
        return code
    stderr("[demo] parsing the dbt project (when it changed) and loading the definitions")
    prepare_dbt_manifest(warehouse.url)
    from audience_dagster.runs.refresh import run_refresh

    outcome = run_refresh(settings, warehouse, _options(args, "demo", as_of=sample_end(sample)))
    code = _conclude(outcome, warehouse.url, started, "demo")
    print("Open the Dagster UI on the same instance: `make ui`, then http://127.0.0.1:3000")
    return code


def cmd_ui(args: argparse.Namespace) -> int:
    """``dagster dev`` on the project's instance; refused while another ``audience ui`` runs."""
    import dagster as dg

    from audience_dagster.runs.lock import UiLock
    from audience_dagster.runs.orphans import fail_orphaned_runs
    from audience_dagster.runtime import prepare_runtime

    settings = load_settings()
    UiLock(settings.home).acquire(f"http://{args.host}:{args.port}")  # held by dagster dev after exec
    prepare_runtime(settings)
    with dg.DagsterInstance.get() as instance:
        for run_id in fail_orphaned_runs(instance):
            stderr(f"[ui] run {run_id[:8]} was left in progress by a process that is gone: marked failed")
    export_environment({"AUDIENCE_LANDING_DIR": str(settings.landing_dir)}, keep_existing=True)
    dagster = Path(sys.executable).with_name("dagster")
    argv = [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    stderr(f"[ui] {' '.join(argv)}  (DAGSTER_HOME={settings.dagster_home})")
    os.chdir(PROJECT_ROOT)
    os.execv(argv[0], argv)
    return 0


def cmd_import_orders(args: argparse.Namespace) -> int:
    """Import order CSVs; one line per file. 2 if a file cannot be read, 1 if one was rejected whole."""
    from audience_dagster.ingest.orders_import import import_orders_file
    from audience_dagster.runtime import prepare_runtime
    from audience_dagster.warehouse.connection import connection

    settings: Settings = load_settings()
    warehouse = prepare_runtime(settings, parse_dbt=False)
    codes = []
    with connection(warehouse.url) as conn:
        for name in args.files:
            code, line = import_orders_file(conn, Path(name))
            print(line, file=sys.stderr if code == 2 else sys.stdout)
            codes.append(code)
    if codes and max(codes) == 0:
        print("Profiles and events follow at the next `audience refresh`.")
    return max(codes, default=0)
