"""One refresh at a time per warehouse, one UI at a time per project home.

* :class:`RefreshLock` — a PostgreSQL session advisory lock on the warehouse, held by
  ``audience refresh`` / ``audience demo`` for their whole run. A second refresh waits for it
  in the server (no polling) or, with ``--no-wait``, stops with a message naming the holder. The
  lock lives in a session, so a killed process releases it at once.
* :class:`UiLock` — an exclusive ``flock`` on ``$AUDIENCE_HOME/ui.lock`` that ``audience ui``
  holds across its ``exec`` into ``dagster dev`` (the descriptor is inherited): a second UI on
  the same home is refused instead of starting a second daemon.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from audience_dagster.errors import RunInProgressError
from audience_dagster.warehouse.connection import connect, redact

REFRESH_LOCK_KEY = 0x61756469  # "audi": one advisory lock id for the project's refreshes

_HOLDER_SQL = """
SELECT a.pid, a.application_name, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1
"""


class RefreshLock:
    """``with RefreshLock(url).acquire(wait=True):`` — the warehouse's refresh lock."""

    def __init__(self, url: str, label: str = "audience refresh") -> None:
        self.url = url
        self.label = f"{label} (pid {os.getpid()} on {socket.gethostname()})"
        self._conn: psycopg2.extensions.connection | None = None

    def holder(self) -> str:
        """Who holds the lock, as a phrase (the holder's session name and since when)."""
        assert self._conn is not None
        with self._conn.cursor() as cur:
            cur.execute(_HOLDER_SQL, (REFRESH_LOCK_KEY,))
            row = cur.fetchone()
        if row is None:
            return "another refresh"
        _, name, since = row
        return f"{name or 'another session'}, since {since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"

    @contextlib.contextmanager
    def acquire(
        self, *, wait: bool = True, timeout_seconds: float | None = None, report: Callable[[str], None] = print
    ):
        conn = connect(self.url)
        conn.autocommit = True
        self._conn = conn
        try:
            with conn.cursor() as cur:
                cur.execute("SET application_name = %s", (self.label[:63],))
                cur.execute("SELECT pg_try_advisory_lock(%s)", (REFRESH_LOCK_KEY,))
                if not cur.fetchone()[0]:
                    self._wait(cur, wait, timeout_seconds, report)
            yield self
        finally:
            self._conn = None
            conn.close()  # ends the session: the lock goes with it

    def _wait(self, cur, wait: bool, timeout_seconds: float | None, report: Callable[[str], None]) -> None:
        holder = self.holder()
        if not wait:
            raise RunInProgressError(
                f"a refresh is already running on {redact(self.url)} ({holder}); wait for it, or run again "
                "without --no-wait to queue behind it"
            )
        report(f"another refresh is running ({holder}); waiting for it to finish (Ctrl-C to stop waiting)")
        started = time.monotonic()
        if timeout_seconds:
            cur.execute("SET lock_timeout = %s", (f"{int(timeout_seconds * 1000)}ms",))
        # wait in the server; the select()-based wait callback keeps Ctrl-C working meanwhile
        psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
        try:
            cur.execute("SELECT pg_advisory_lock(%s)", (REFRESH_LOCK_KEY,))
        except psycopg2.errors.LockNotAvailable as exc:
            raise RunInProgressError(
                f"the other refresh ({holder}) is still running after {timeout_seconds:.0f}s; "
                "try again later or raise --wait-timeout"
            ) from exc
        finally:
            psycopg2.extensions.set_wait_callback(None)
        cur.execute("SET lock_timeout = 0")
        report(f"the other refresh finished; starting (waited {time.monotonic() - started:.0f}s)")


class UiLock:
    """An exclusive lock on ``<home>/ui.lock`` whose descriptor survives ``exec``."""

    def __init__(self, home: Path) -> None:
        self.path = home / "ui.lock"

    def acquire(self, url: str) -> int:
        """Take the lock (refusing when another UI holds it) and describe this UI in the file; the
        descriptor is inheritable, so the process this one ``exec``s into keeps holding it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._describe(fd)
            os.close(fd)
            raise RunInProgressError(
                f"`audience ui` is already running for {self.path.parent} ({holder}): open it, or stop it "
                "(Ctrl-C in its terminal) before starting another; a second one would start a second daemon"
            ) from None
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "url": url, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.write(fd, json.dumps(info).encode())
        os.set_inheritable(fd, True)
        return fd

    @staticmethod
    def _describe(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            return "another process"
        return f"pid {info.get('pid', '?')}, {info.get('url', '?')}, since {info.get('since', '?')}"
