"""Runs you can trust, the parts without a warehouse: the clock, the capability groups, the
progress lines, orphaned runs, the UI lock, and dbt's process ending with its parent.

Real processes and a real (ephemeral) Dagster instance; nothing is mocked.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import psutil
import pytest

from audience_dagster.cli import main
from audience_dagster.clock import RunClock, clock_run_config
from audience_dagster.config import load_settings, parse_as_of
from audience_dagster.errors import ConfigError, RunInProgressError
from audience_dagster.runs.lock import UiLock
from audience_dagster.runs.orphans import fail_orphaned_runs, process_tags
from audience_dagster.runs.progress import StageProgress, elapsed, progress_logger, stage_times
from audience_dagster.runs.tags import PID_STARTED_TAG, PID_TAG
from audience_dagster.sample_data.params import GenerationParams, default_end
from audience_dagster.transform.dbt_process import die_with_parent, end_process_group
from audience_dagster.transform.groups import capability_group

PY = sys.executable


def test_as_of_parses_iso_dates_and_times_in_utc() -> None:
    assert parse_as_of("2026-11-30") == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_as_of("2026-11-30T12:00:00Z") == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert parse_as_of("2026-11-30T12:00:00+02:00") == datetime(2026, 11, 30, 10, tzinfo=UTC)
    with pytest.raises(ConfigError, match="AUDIENCE_AS_OF"):
        load_settings({"AUDIENCE_AS_OF": "yesterday"})
    assert load_settings({"AUDIENCE_AS_OF": "2026-11-30"}).as_of == datetime(2026, 11, 30, tzinfo=UTC)
    assert load_settings({}).as_of is None


def test_one_clock_per_run_pinned_by_run_config_or_the_run_start() -> None:
    seen: dict[str, datetime] = {}

    @dg.asset
    def first(clock: RunClock) -> None:
        seen["first"] = clock.now

    @dg.asset(deps=[first])
    def second(clock: RunClock) -> None:
        seen["second"] = clock.now

    job = dg.define_asset_job("clocked", selection="*")
    defs = dg.Definitions(assets=[first, second], jobs=[job], resources={"clock": RunClock()})
    pinned = datetime(2026, 11, 30, tzinfo=UTC)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("clocked").execute_in_process(
            instance=instance, run_config=clock_run_config(pinned)
        )
        assert seen == {"first": pinned, "second": pinned}
        result = defs.resolve_job_def("clocked").execute_in_process(instance=instance)
        record = instance.get_run_record_by_id(result.run_id)
    # unpinned: both steps see the run's start time, to the microsecond
    assert seen["first"] == seen["second"] == datetime.fromtimestamp(record.start_time, UTC)
    assert clock_run_config(None) == {}


def test_dbt_models_are_grouped_by_capability() -> None:
    assert capability_group("models/staging/segment/stg_segment__tracks.sql") == "ingest"
    assert capability_group("models/staging/identity/stg_identity__profiles.sql") == "identity"
    assert capability_group("models/intermediate/identity/int_identity_edges.sql") == "identity"
    assert capability_group("models/intermediate/events/int_events_unioned.sql") == "profiles"
    assert capability_group("models/marts/audience/audience_profiles.sql") == "profiles"
    assert capability_group("models/marts/reports/report_wtp_distribution.sql") == "reports"
    assert capability_group("analyses/x.sql") is None


def test_the_sample_ends_when_it_is_generated() -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert default_end() == yesterday
    assert GenerationParams(people=1, seed=1).end == yesterday
    assert GenerationParams(people=1, seed=1, end=date(2026, 10, 31)).end == date(2026, 10, 31)


def test_progress_prints_one_line_per_stage_and_stage_times_read_them_back(tmp_path) -> None:
    @dg.asset
    def loaded(context) -> None:  # unannotated: the module has string annotations
        context.log.info("loading")

    @dg.asset(deps=[loaded])
    def built() -> None:
        raise ValueError("the table is gone")

    job = dg.define_asset_job("staged", selection="*")
    defs = dg.Definitions(assets=[loaded, built], jobs=[job], loggers={"progress": progress_logger})
    log = tmp_path / "dagster.log"
    config = {"loggers": {"progress": {"config": {"total_steps": 2, "log_file": str(log)}}}}
    stream = io.StringIO()
    saved, sys.stderr = sys.stderr, stream
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = defs.resolve_job_def("staged").execute_in_process(
                instance=instance, run_config=config, raise_on_error=False
            )
            times = stage_times(instance, result.run_id)
    finally:
        sys.stderr = saved
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/2] loaded …"
    assert lines[1].startswith("[1/2] loaded") and "done in" in lines[1]
    assert lines[3].startswith("[2/2] built") and "FAILED after" in lines[3] and "the table is gone" in lines[3]
    assert [(t.step, t.outcome, t.materialized) for t in times] == [("loaded", "done", 1), ("built", "failed", 0)]
    assert "loading" in log.read_text()  # everything, the step's own messages too, is in the log file


def test_live_progress_rewrites_one_line() -> None:
    stream = io.StringIO()
    handler = StageProgress(3, stream, live=True, quiet=frozenset({"a_check"}))
    for kind, step in (("STEP_START", "scores"), ("STEP_SUCCESS", "scores"), ("STEP_START", "a_check")):
        handler.emit(_record(kind, step))
    handler.close()
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[1/3] scores") and text.count("\n") == 1 and "a_check" not in text
    assert elapsed(3.04) == "3.0s" and elapsed(187) == "3m07s" and elapsed(3720) == "1h02m"


def _record(kind: str, step: str):
    """A log record carrying what the handler reads of a Dagster step event."""
    import logging
    from types import SimpleNamespace

    record = logging.LogRecord("dagster", logging.DEBUG, __file__, 0, "", (), None)
    record.dagster_event = SimpleNamespace(event_type_value=kind, step_key=step)
    return record


def _dead_pid() -> int:
    child = subprocess.Popen([PY, "-c", "pass"])
    child.wait()
    return child.pid


def test_runs_whose_process_is_gone_are_marked_failed() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        dead = dg.DagsterRun(
            job_name="audience_refresh",
            run_id="11111111-1111-4111-8111-111111111111",
            status=dg.DagsterRunStatus.STARTED,
            tags={PID_TAG: str(_dead_pid()), PID_STARTED_TAG: "1.0"},
        )
        alive = dg.DagsterRun(
            job_name="audience_refresh",
            run_id="22222222-2222-4222-8222-222222222222",
            status=dg.DagsterRunStatus.STARTED,
            tags=process_tags(),  # this very process
        )
        for run in (dead, alive):
            instance.add_run(run)
        assert fail_orphaned_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert fail_orphaned_runs(instance) == []


HOLD_UI_LOCK = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from audience_dagster.runs.lock import UiLock
    UiLock(Path(sys.argv[1])).acquire("http://127.0.0.1:3999")
    print("locked", flush=True)
    os.execv("/bin/sleep", ["sleep", "600"])  # what `audience ui` does: exec into dagster dev
    """
)


@pytest.mark.skipif(not os.path.exists("/bin/sleep"), reason="needs /bin/sleep")
def test_a_second_ui_is_refused_while_the_first_holds_the_lock_across_exec(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    holder = subprocess.Popen([PY, "-c", HOLD_UI_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunInProgressError, match=rf"already running .*pid {holder.pid}, http://127.0.0.1:3999"):
            UiLock(tmp_path).acquire("http://127.0.0.1:3000")
        monkeypatch.setenv("AUDIENCE_HOME", str(tmp_path))
        assert main(["ui", "--port", "3001"]) == 3  # refused before anything starts
        assert "`audience ui` is already running" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    fd = UiLock(tmp_path).acquire("http://127.0.0.1:3000")  # free again once it is gone
    os.close(fd)


def test_ending_a_process_group_ends_its_children_too() -> None:
    # SIGTERM's default action in the leader whatever the test runner's workers inherited
    script = "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_DFL);"
    script += " subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
    script += " print('started', flush=True); time.sleep(600)"
    leader = subprocess.Popen([PY, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert leader.stdout.readline().strip() == "started"
    child = psutil.Process(leader.pid).children()[0]
    assert end_process_group(leader, timeout=30) is True  # a loaded 2-core machine can be slow to run it
    _, alive = psutil.wait_procs([child], timeout=10)
    assert alive == [] and leader.returncode == -signal.SIGTERM
    assert end_process_group(leader) is False  # already ended: nothing to do


DIES_WITH_PARENT = textwrap.dedent(
    """
    import subprocess, sys
    code = (
        "import os, time; from audience_dagster.transform.dbt_process import die_with_parent;"
        " os.setpgid(0, 0); assert die_with_parent(); print('ready', flush=True); time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    print(child.pid, flush=True)
    child.wait()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_dbt_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([PY, "-c", DIES_WITH_PARENT], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    assert os.getpgid(child.pid) == child.pid  # a process group of its own
    parent.kill()  # kill -9: no cleanup code runs in the parent
    parent.wait()
    _, alive = psutil.wait_procs([child], timeout=10)
    assert alive == []
    assert die_with_parent() is True
