"""dbt as a child process that ends with the run (pure process handling, no Dagster import).

dagster-dbt starts ``dbt`` with ``subprocess.Popen``; the project points its ``dbt_executable`` at
``audience-dbt`` (:func:`main`), which puts itself into its own process group, asks Linux to
kill it when the process that started it dies (``PR_SET_PDEATHSIG``: a ``kill -9`` of
``audience refresh`` ends dbt too, instead of leaving it writing the warehouse), and then
becomes ``dbt`` (``exec``: same pid, same group). Its own group means a Ctrl-C in the terminal
reaches only the run, which forwards one interrupt to dbt and waits for it; when a step ends
for any reason, :func:`end_process_group` ends whatever is left of the group.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
WRAPPER = "audience-dbt"


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def dbt_executable() -> str:
    """The wrapper next to this interpreter when installed (``make install``), else plain ``dbt``."""
    wrapper = Path(sys.executable).with_name(WRAPPER)
    return str(wrapper) if wrapper.exists() else "dbt"


def _signal(process: subprocess.Popen, group: int | None, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group is not None:
            os.killpg(group, sig)
        else:
            process.send_signal(sig)


def end_process_group(process: subprocess.Popen, timeout: float = 10.0) -> bool:
    """End a child that is still running, with its process group: SIGTERM, then SIGKILL after
    ``timeout`` seconds. True if it had to be ended; a child that already exited is left alone."""
    if process.poll() is not None:
        return False
    try:
        group: int | None = os.getpgid(process.pid)
    except ProcessLookupError:
        group = None
    if group == os.getpgrp():  # not in a group of its own (plain dbt): only the child itself
        group = None
    _signal(process, group, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(process, group, signal.SIGKILL)
        process.wait()
    if group is not None:  # anything it started and left behind
        _signal(process, group, signal.SIGKILL)
    return True


def main() -> None:
    """``audience-dbt ARGS…``: become ``dbt ARGS…`` in an own process group that dies with its parent."""
    parent = os.getppid()
    with contextlib.suppress(PermissionError):  # already a group leader (started with setsid)
        os.setpgid(0, 0)
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the kernel was told: nobody to report to
        os._exit(1)
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")
    if dbt is None:
        sys.exit("audience-dbt: dbt is not installed in this environment; run `make install`")
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
