"""Starting the embedded server: its ``postmaster.pid`` is read while PostgreSQL still writes it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from audience_dagster.warehouse.embedded import _wait_ready, postmaster_info


def _pid_file(pgdata: Path, status: str | None) -> None:
    lines = [str(os.getpid()), str(pgdata), str(int(time.time())), "5432", str(pgdata), "", "  2146674     32775"]
    if status is not None:
        lines.append(status)
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_a_pid_file_without_its_status_line_is_not_an_error(tmp_path: Path) -> None:
    assert postmaster_info(tmp_path) is None  # no file yet
    _pid_file(tmp_path, status=None)  # PostgreSQL has written seven of its eight lines
    assert postmaster_info(tmp_path) is None
    _pid_file(tmp_path, status="ready")
    info = postmaster_info(tmp_path)
    assert info is not None and info.status == "ready" and info.pid == os.getpid()


def test_waiting_for_a_starting_server_reads_through_a_partial_pid_file(tmp_path: Path) -> None:
    _pid_file(tmp_path, status=None)
    finish = threading.Timer(0.3, _pid_file, args=(tmp_path, "ready"))
    finish.start()
    reports: list[str] = []
    try:
        assert _wait_ready(tmp_path, tmp_path / "log", timeout_seconds=10, report=reports.append, poll_seconds=0.05)
    finally:
        finish.cancel()
    assert reports == []
