"""``audience bench refresh``: a full build, a no-op refresh, then hourly-shaped increments.

Every refresh is ``audience refresh`` in a child process (start-up and imports included, as a
user waits for them) on a generated sample, in the scratch database (``audience_bench`` on the
embedded server, recreated, or ``AUDIENCE_BENCH_DATABASE_URL``) with a Dagster home of its own.
The sample's landing files are split (:mod:`.increments`): the full build loads the base, then a
refresh with nothing new, then ``increments`` refreshes that each find one increment's new files
(~``share`` of the events: the latest stretch of the sample plus a few late records).

Prints to stderr what each increment holds and, after each refresh, its figures and the
per-stage table so far (seconds per Dagster step, summed over the refresh's runs, from the
instance's step stats: a bench stopped half-way keeps what it measured), and returns the figures:
``full_seconds``, ``noop_seconds``, ``incremental_seconds`` (the median of the increments),
``ratio_incremental_to_full``, ``peak_rss_mb`` (the largest sum of RSS over the refresh process
and its children — dbt — sampled every 0.5 s; PostgreSQL's backends are not in it, they are
``peak_server_pss_mb``: the proportional set size of the server's processes, so shared buffers
count once), and each refresh's CPU (``*_cli_cpu_seconds``: the command with its dbt processes;
``*_server_cpu_seconds``: the embedded PostgreSQL). It asserts nothing.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from audience_dagster.bench.database import BENCH_DB, bench_database_url, drop_bench_database
from audience_dagster.bench.increments import Split, deliver, split_landing
from audience_dagster.bench.ingest import bench_sample
from audience_dagster.config import PROJECT_ROOT, load_settings, process_environment


def _server_process() -> psutil.Process | None:
    settings = load_settings()
    pid_file = settings.pgdata_dir / "postmaster.pid"
    if not settings.embedded or not pid_file.exists():
        return None
    return psutil.Process(int(pid_file.read_text().split()[0]))


def _server_cpu() -> float | None:
    """CPU seconds of the embedded server so far (postmaster and every backend it reaped)."""
    server = _server_process()
    if server is None:
        return None
    times = server.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pss_mb(process: psutil.Process) -> float:
    """Proportional set size (``/proc/PID/smaps_rollup``), MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{process.pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """Peak memory while a refresh runs, sampled every ``interval`` seconds (a sleeping thread):
    the RSS sum of the child and its descendants, the PSS sum of the embedded server's processes."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval, self.peak_rss_mb, self.peak_server_pss_mb = interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server = _server_process()

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self, pid: int) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            rss = 0
            for process in tree:
                with contextlib.suppress(psutil.Error):
                    rss += process.memory_info().rss
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
            if self._server is not None:
                with contextlib.suppress(psutil.Error):
                    server = [self._server, *self._server.children()]
                    self.peak_server_pss_mb = max(self.peak_server_pss_mb, sum(_pss_mb(p) for p in server))
            self._stop.wait(self.interval)


def timed_refresh(env: dict[str, str], log: Path, as_of: datetime | None) -> dict[str, float | int | None]:
    """One ``audience refresh`` in a child process: wall seconds, CPU, peak memory, exit code."""
    argv = [sys.executable, "-m", "audience_dagster.cli", "refresh"]
    if as_of is not None:
        argv += ["--as-of", as_of.isoformat()]
    server, cli, started, wall = _server_cpu(), _children_cpu(), time.perf_counter(), time.time()
    sampler = MemorySampler()
    with log.open("w") as out:
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=out, cwd=PROJECT_ROOT)
        sampler.start(child.pid)
        code = child.wait()
    seconds = time.perf_counter() - started
    sampler.stop()
    server_after = _server_cpu()
    print(f"[bench] refresh exit {code} in {seconds:.1f}s (log: {log})", file=sys.stderr)
    return {
        "seconds": seconds,
        "cli_cpu_seconds": _children_cpu() - cli,
        "server_cpu_seconds": None if server is None or server_after is None else server_after - server,
        "peak_rss_mb": sampler.peak_rss_mb,
        "peak_server_pss_mb": sampler.peak_server_pss_mb if sampler._server is not None else None,
        "code": code,
        "since": wall,
    }


def step_seconds(env: dict[str, str], since: float) -> dict[str, float]:
    """Seconds per Dagster step of the runs created after ``since`` (:mod:`.step_stats`)."""
    done = subprocess.run(
        [sys.executable, "-m", "audience_dagster.bench.step_stats", str(since)],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    if done.returncode != 0:
        print(f"[bench] step stats failed: {done.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def stage_table(columns: dict[str, dict[str, float]]) -> str:
    """A text table: one row per step (in the full build's order of time spent), one column per refresh."""
    steps = sorted({s for stages in columns.values() for s in stages}, key=lambda s: -columns["full"].get(s, 0.0))
    width = max([len(s) for s in steps] + [5])
    lines = [f"{'stage':<{width}} " + " ".join(f"{name:>9}" for name in columns)]
    for step in steps:
        cells = (f"{stages[step]:9.1f}" if step in stages else f"{'-':>9}" for stages in columns.values())
        lines.append(f"{step:<{width}} " + " ".join(cells))
    lines.append(f"{'(sum)':<{width}} " + " ".join(f"{sum(stages.values()):9.1f}" for stages in columns.values()))
    return "\n".join(lines)


def describe_split(split: Split) -> tuple[str, dict[str, object]]:
    """What each increment holds (a table for stderr) and its figures for the closing line."""
    loaded, lines, shares = split.base_records, [], []
    for k, f in enumerate(split.figures, start=1):
        share = f.records / loaded if loaded else 0.0
        shares.append(share)
        hours = (f.end - f.start) / 3600
        lines.append(
            f"increment {k}: {f.records} records = {share:.2%} of the {loaded} loaded, {int(f.late)} late;"
            f" window {hours:.1f} h from {datetime.fromtimestamp(f.start, UTC):%Y-%m-%d %H:%M}Z;"
            f" {f.identifies} identifies, {f.identifies_linking_anonymous} linking earlier anonymous ids;"
            f" user ids {f.returning_users} returning, {f.new_users} new"
        )
        loaded += f.records
    figures: dict[str, object] = {
        "base_records": split.base_records,
        "increment_share_pct": round(100 * statistics.mean(shares), 3) if shares else 0,
        "increment_late": sum(int(f.late) for f in split.figures),
        "increment_identifies_linking_anonymous": sum(f.identifies_linking_anonymous for f in split.figures),
    }
    return "\n".join(lines), figures


def between_ticks_cron(base_end: datetime | None) -> str:
    """A yearly cron whose tick is one day before the base ends: the full build trains (never
    trained), and no refresh of the bench (a few days at most) crosses a training tick."""
    if base_end is None:
        return "0 3 1 1 *"
    tick = base_end - timedelta(days=1)
    return f"{tick.minute} {tick.hour} {tick.day} {tick.month} *"


def run_refresh_bench(
    people: int,
    seed: int,
    workers: int,
    reuse: bool,
    keep: bool = False,
    increments: int = 3,
    share: float = 0.01,
    training_cron: str | None = None,
) -> dict[str, object]:
    out, figures = bench_sample(people, seed, workers, reuse)
    url = bench_database_url()
    home = load_settings().home / "bench" / "refresh-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    split = split_landing(out / "landing", home / "split", increments=increments, share=share, seed=seed)
    described, split_figures = describe_split(split)
    print(described, file=sys.stderr)
    base_end = datetime.fromtimestamp(split.cutoff, UTC).replace(microsecond=0) if split.figures else None
    cron = training_cron or between_ticks_cron(base_end)
    print(f"[bench] training cron: {cron}", file=sys.stderr)
    env = process_environment(
        {
            "DATABASE_URL": url,
            "AUDIENCE_HOME": str(home),
            "AUDIENCE_LANDING_DIR": str(split.landing),
            "AUDIENCE_MODELS_DIR": str(home / "models"),
            "AUDIENCE_TRAINING_CRON": cron,
        }
    )
    env.pop("AUDIENCE_DATABASE_URL", None)
    env.pop("AUDIENCE_AS_OF", None)
    runs: dict[str, dict] = {}
    stages: dict[str, dict[str, float]] = {}

    def measure(name: str, log: Path, as_of: datetime | None) -> None:
        """One refresh; its figures and stages on stderr at once (a bench stopped half-way keeps them)."""
        runs[name] = timed_refresh(env, log, as_of)
        stages[name] = step_seconds(env, runs[name]["since"])
        figures_now = {key: value for key, value in runs[name].items() if key != "since" and value is not None}
        print(f"[bench] {name}: " + " ".join(f"{key}={value}" for key, value in figures_now.items()), file=sys.stderr)
        print(stage_table(stages), file=sys.stderr)

    measure("full", home / "full.log", base_end)
    measure("noop", home / "noop.log", base_end)
    for k, (folder, f) in enumerate(zip(split.increments, split.figures, strict=True), start=1):
        deliver(folder, split.landing)
        measure(f"inc{k}", home / f"increment-{k}.log", datetime.fromtimestamp(f.end, UTC).replace(microsecond=0))
    drop_bench_database(url, BENCH_DB, keep)
    return {**_closing_figures(runs), **figures, **split_figures}


def _closing_figures(runs: dict[str, dict]) -> dict[str, object]:
    """``full_seconds … peak_rss_mb`` first, then each refresh's CPU."""
    incremental = [run["seconds"] for name, run in runs.items() if name.startswith("inc")]
    median = statistics.median(incremental) if incremental else None
    figures: dict[str, object] = {
        "full_seconds": runs["full"]["seconds"],
        "noop_seconds": runs["noop"]["seconds"],
        "incremental_seconds": median,
        "ratio_incremental_to_full": median / runs["full"]["seconds"] if median is not None else None,
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs.values()),
    }
    server = [run["peak_server_pss_mb"] for run in runs.values() if run["peak_server_pss_mb"] is not None]
    if server:
        figures["peak_server_pss_mb"] = max(server)
    for name, run in runs.items():
        for key in ("cli_cpu_seconds", "server_cpu_seconds"):
            if run[key] is not None:
                figures[f"{name}_{key}"] = run[key]
    figures["failed"] = sum(1 for run in runs.values() if run["code"] != 0)
    return {k: v for k, v in figures.items() if v is not None}
