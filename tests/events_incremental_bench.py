"""The dbt_profiles stage, full vs incremental: a one-off script (like dbt_compare.py), not a test.

    audience generate --people 20000 --seed 15 --out S --end 2026-11-30
    python tests/events_incremental_bench.py S L split         # S/base (99%), S/increment (1%, at random)
    (or split-recent: the increment is the latest 1% of each source's records by time)
    export AUDIENCE_LANDING_DIR=L                              # an empty warehouse
    python tests/events_incremental_bench.py S L base          # S/base into L, the job up to audience_events
    python tests/events_incremental_bench.py S L full          # dbt build --full-refresh of the stage
    python tests/events_incremental_bench.py S L increment     # S/increment into L, ingest + identity
    python tests/events_incremental_bench.py S L incremental   # dbt build of the stage

Each phase prints one key=value line (seconds, including dbt's start-up). docs/incremental.md.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

sample, landing, phase = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
SOURCES = ("segment", "sendgrid", "shopify", "social", "historical_orders")


def record_time(source: str, line: str) -> str:
    """A record's time as sortable text ('' when unreadable)."""
    try:
        if source == "historical_orders":
            return line.split(",")[3]
        record = json.loads(line)
        if source == "sendgrid":
            return str(record.get("timestamp", "")).zfill(12)
        return str(record.get("timestamp") or record.get("created_at") or record.get("occurred_at") or "")
    except (ValueError, IndexError, AttributeError):
        return ""


def split(recent: bool) -> None:
    """1% of each source's records into the increment: at random (any person, any month), or
    the latest 1% by time (what an hourly refresh sees: recent activity)."""
    rng = random.Random(15)
    for part in ("base", "increment"):
        shutil.rmtree(sample / part, ignore_errors=True)
    for source in SOURCES:
        for path in sorted((sample / "landing" / source).iterdir()):
            lines = path.read_text().splitlines()
            header = [lines.pop(0)] if path.suffix == ".csv" else []
            base, inc = list(header), list(header)
            if recent:
                order = sorted(range(len(lines)), key=lambda i: record_time(source, lines[i]))
                late = set(order[int(len(lines) * 0.99) :])
                chosen = [i in late for i in range(len(lines))]
            else:
                chosen = [rng.random() < 0.01 for _ in lines]
            for line, in_increment in zip(lines, chosen, strict=True):
                (inc if in_increment else base).append(line)
            for part, chunk in (("base", base), ("increment", inc)):
                out = sample / part / source / (path.stem + f"-{part}" + path.suffix)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text("\n".join(chunk) + "\n")


def run_up_to(key: dg.AssetKey) -> float:
    from audience_dagster.definitions import defs
    from audience_dagster.runtime import prepare_runtime

    prepare_runtime()
    job = defs.resolve_job_def("audience_refresh")
    graph = defs.resolve_asset_graph()
    keys = [k for k in dg.AssetSelection.assets(key).upstream().resolve(graph) if graph.get(k).is_materializable]
    began = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=False)
    assert result.success
    return time.perf_counter() - began


def dbt(*args: str) -> float:
    from audience_dagster.config import DBT_PROJECT_DIR, load_settings
    from audience_dagster.transform.stages import STAGES
    from audience_dagster.warehouse.connection import child_env, resolve_warehouse

    select = next(s.select for s in STAGES if s.name == "dbt_profiles")
    env = {**os.environ, **child_env(resolve_warehouse(load_settings()))}
    began = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--select",
            *select.split(),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - began
    print(done.stdout[-1500:])
    assert done.returncode == 0
    return took


if phase in ("split", "split-recent"):
    split(recent=phase == "split-recent")
elif phase == "base":
    shutil.rmtree(landing, ignore_errors=True)
    shutil.copytree(sample / "base", landing)
    from audience_dagster.transform.keys import EVENTS_KEY

    print(f"base_build_seconds={run_up_to(EVENTS_KEY):.1f}")
elif phase in ("full", "incremental"):
    print(f"dbt_profiles_{phase}_seconds={dbt('build', *(['--full-refresh'] if phase == 'full' else [])):.1f}")
elif phase == "increment":
    for source in SOURCES:
        for path in (sample / "increment" / source).iterdir():
            shutil.copy(path, landing / source / path.name)
    from audience_dagster.identity.keys import IDENTITY_MAP_KEY

    print(f"increment_ingest_identity_seconds={run_up_to(IDENTITY_MAP_KEY):.1f}")
