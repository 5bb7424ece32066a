"""``audience bench refresh``: a full refresh, then one with nothing new, as a user runs them.

Both are ``audience refresh`` in a child process (start-up and imports included, as a user waits
for them) on a generated sample, in the scratch database (``audience_bench`` on the embedded
server, recreated, or ``AUDIENCE_BENCH_DATABASE_URL``) with a Dagster home of its own, as of the
sample's end. Prints ``full_seconds=… noop_seconds=…`` and the CPU each used: the command with
its dbt processes (``*_cli_cpu_seconds``) and the embedded PostgreSQL (``*_server_cpu_seconds``).
It asserts nothing.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

from audience_dagster.bench.database import BENCH_DB, bench_database_url, drop_bench_database
from audience_dagster.bench.ingest import bench_sample
from audience_dagster.config import PROJECT_ROOT, load_settings, process_environment
from audience_dagster.runs.commands import sample_end


def _server_cpu() -> float | None:
    """CPU seconds of the embedded server so far (postmaster and every backend it reaped)."""
    settings = load_settings()
    pid_file = settings.pgdata_dir / "postmaster.pid"
    if not settings.embedded or not pid_file.exists():
        return None
    times = psutil.Process(int(pid_file.read_text().split()[0])).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_refresh(env: dict[str, str], log: Path) -> dict[str, float | int | None]:
    """One ``audience refresh`` in a child process: wall seconds, CPU, exit code."""
    server, cli, started = _server_cpu(), _children_cpu(), time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(
            [sys.executable, "-m", "audience_dagster.cli", "refresh"], env=env, stdout=out, stderr=out, cwd=PROJECT_ROOT
        ).returncode
    seconds = time.perf_counter() - started
    server_after = _server_cpu()
    print(f"[bench] refresh exit {code} in {seconds:.1f}s (log: {log})", file=sys.stderr)
    return {
        "seconds": seconds,
        "cli_cpu_seconds": _children_cpu() - cli,
        "server_cpu_seconds": None if server is None or server_after is None else server_after - server,
        "code": code,
    }


def run_refresh_bench(people: int, seed: int, workers: int, reuse: bool, keep: bool = False) -> dict[str, object]:
    out, figures = bench_sample(people, seed, workers, reuse)
    url = bench_database_url()
    home = load_settings().home / "bench" / "refresh-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    as_of = sample_end(out)
    env = process_environment(
        {
            "DATABASE_URL": url,
            "AUDIENCE_HOME": str(home),
            "AUDIENCE_LANDING_DIR": str(out / "landing"),
            "AUDIENCE_MODELS_DIR": str(home / "models"),
            **({"AUDIENCE_AS_OF": as_of.isoformat()} if as_of else {}),
        }
    )
    env.pop("AUDIENCE_DATABASE_URL", None)
    full = timed_refresh(env, home / "full.log")
    noop = timed_refresh(env, home / "noop.log")
    for name, run in (("full", full), ("noop", noop)):
        figures.update({f"{name}_{key}": value for key, value in run.items() if key != "code" and value is not None})
    figures["failed"] = sum(1 for run in (full, noop) if run["code"] != 0)
    drop_bench_database(url, BENCH_DB, keep)
    return figures
