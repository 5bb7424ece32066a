"""Runs whose process is gone: a ``kill -9`` of ``audience refresh``, a crashed UI run worker.

Dagster marks a run failed only from inside its process, so a killed one stays STARTED forever
(and the run queue would wait for it). Every command that starts work calls
:func:`fail_orphaned_runs` first: a run in progress whose process (tagged by the CLI, or the pid
Dagster logged when the run worker started) no longer exists on this machine is marked failed,
with a message saying so, and its concurrency slots are freed.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import dagster as dg
import psutil
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from audience_dagster.runs.tags import HOST_TAG, PID_STARTED_TAG, PID_TAG


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Tags naming the process that executes a run (the CLI puts them on its in-process runs)."""
    process = psutil.Process(pid or os.getpid())
    return {PID_TAG: str(process.pid), PID_STARTED_TAG: f"{process.create_time():.3f}", HOST_TAG: socket.gethostname()}


@dataclass(frozen=True)
class RunProcess:
    pid: int
    started_before: float  # the process must have existed at this time (epoch seconds)
    exact: bool  # started_before is the process's own start time


def run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunProcess | None:
    """The process executing ``run``: from the CLI's tags, else the first pid its event log names."""
    tags = run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            return None  # another machine's run: not ours to judge
        return RunProcess(int(tags[PID_TAG]), float(tags.get(PID_STARTED_TAG, 0)), PID_STARTED_TAG in tags)
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.event_specific_data if record.dagster_event else None
        pid = (getattr(data, "metadata", None) or {}).get("pid")
        if pid is not None:
            return RunProcess(int(pid.value), record.timestamp, exact=False)
    return None


def is_alive(process: RunProcess) -> bool:
    try:
        created = psutil.Process(process.pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True
    if process.exact:
        return abs(created - process.started_before) < 0.5
    return created <= process.started_before + 1.0  # a process started later reused the pid


def orphaned_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, RunProcess]]:
    """Runs in progress whose process no longer exists on this machine."""
    found = []
    for run in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        process = run_process(instance, run)
        if process is not None and process.pid != os.getpid() and not is_alive(process):
            found.append((run, process))
    return found


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every orphaned run failed (and free its concurrency slots); their run ids."""
    failed = []
    for run, process in orphaned_runs(instance):
        instance.report_run_failed(
            run,
            message=(
                f"Marked failed by audience: the process that ran it (pid {process.pid}) no longer exists"
                " (killed or crashed). Re-run it; every step is idempotent."
            ),
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed
