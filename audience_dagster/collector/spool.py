"""The durable spool: accepted batches are on disk (fsync'd) before the server answers 200.

One append-only file per source is open at a time, ``<spool>/<source>/<stem>.jsonl.part``.
Requests queue their lines; a writer appends everything queued since its last sync in one
``write`` and one ``fdatasync`` (group commit: concurrent requests share a sync, so throughput
does not stop at one request per disk flush), then releases them all. A file is closed when it
is ``rotate_bytes`` big or ``rotate_seconds`` old (since its first line) and *published*: renamed
into ``<landing>/<source>/collector/<stem>.jsonl`` — whole or not at all, since ingest loads
any ``*.jsonl`` it finds — and both directories are fsync'd. Ingest then loads it like any
landing file (ledger, messageId/sg_event_id/order-id dedup, quarantine, do-not-track,
suppression).

After a crash (``kill -9``, power loss) the next start *recovers*: every ``*.part`` left behind
is cut after its last complete line (a torn tail was never acknowledged) and published. So
everything acknowledged is published exactly once as a line; a batch written but not yet
acknowledged may be published too, and the client's retry of it is deduplicated by ingest.

One server per spool directory: an exclusive lock on ``<spool>/collector.lock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from audience_dagster.errors import CollectorError

log = logging.getLogger("audience.collector")
PART_SUFFIX = ".jsonl.part"
PUBLISHED_SUBDIR = "collector"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def cut_torn_tail(path: Path) -> int:
    """Truncate ``path`` after its last newline (a torn last line was never acknowledged); its new size."""
    with path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        keep, block = size, 1 << 16
        while keep > 0:
            start = max(0, keep - block)
            handle.seek(start)
            chunk = handle.read(keep - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            keep = start
        if keep != size:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    return keep


def publish(part: Path, landing_source_dir: Path) -> Path:
    """Move a closed, synced spool file into the landing folder under its final name, atomically."""
    target_dir = landing_source_dir / PUBLISHED_SUBDIR
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / (part.name[: -len(PART_SUFFIX)] + ".jsonl")
    try:
        os.rename(part, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        staging = final.with_name(final.name + ".tmp")  # not a landing suffix: ingest ignores it
        shutil.copyfile(part, staging)
        with staging.open("rb") as handle:
            os.fsync(handle.fileno())
        os.rename(staging, final)
        fsync_dir(target_dir)
        part.unlink()
    fsync_dir(target_dir)
    fsync_dir(part.parent)
    return final


@dataclass
class SpoolStats:
    requests: int = 0
    lines: int = 0
    bytes: int = 0
    syncs: int = 0
    files_published: int = 0


class SourceSpool:
    """The spool of one source (segment, sendgrid, shopify)."""

    def __init__(self, source: str, spool_dir: Path, landing_dir: Path, rotate_bytes: int, rotate_seconds: float):
        self.source = source
        self.directory = spool_dir / source
        self.landing_source_dir = landing_dir / source
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.stats = SpoolStats()
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._first_write = 0.0
        self._queue: list[tuple[bytes, int, asyncio.Future[None]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"spool-{source}")

    # -- synchronous file work (runs on this spool's single writer thread) --------------------

    def recover(self) -> list[Path]:
        """Publish every ``*.part`` a previous server left (cut after the last complete line)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        published = []
        for part in sorted(self.directory.glob("*" + PART_SUFFIX)):
            if cut_torn_tail(part) == 0:
                part.unlink()
                continue
            published.append(publish(part, self.landing_source_dir))
            log.info("recovered spool file %s → %s", part.name, published[-1])
        if published:
            fsync_dir(self.directory)
        return published

    def _open(self) -> None:
        stem = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
        self._path = self.directory / (stem + PART_SUFFIX)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
        fsync_dir(self.directory)  # the file itself survives a power loss, not only its bytes
        self._size = 0
        self._first_write = time.monotonic()

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            self._open()
        assert self._fd is not None
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            os.fdatasync(self._fd)
        except OSError:
            self._abandon()
            raise
        self._size += len(data)
        self.stats.syncs += 1
        if self._size >= self.rotate_bytes:
            self._rotate()

    def _abandon(self) -> None:
        """After a failed write: stop using the file and publish what it holds up to its last
        complete line (the failed batch is answered 503 and retried by the client)."""
        fd, path, self._fd, self._path = self._fd, self._path, None, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if path is not None:
            with contextlib.suppress(OSError):
                if cut_torn_tail(path) == 0:
                    path.unlink()
                else:
                    publish(path, self.landing_source_dir)

    def _rotate(self) -> None:
        if self._fd is None or self._path is None:
            return
        os.close(self._fd)
        path, self._fd, self._path = self._path, None, None
        if self._size == 0:
            path.unlink()
            return
        publish(path, self.landing_source_dir)
        self.stats.files_published += 1

    def _due(self) -> float | None:
        """Seconds until the open file must be published (None: no file open)."""
        if self._fd is None or self._size == 0:
            return None
        return max(0.0, self._first_write + self.rotate_seconds - time.monotonic())

    # -- the asynchronous side ----------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.recover)
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"spool-{self.source}")

    async def append(self, lines: bytes, messages: int) -> None:
        """Returns once ``lines`` are on disk (fdatasync'd); raises :class:`CollectorError` if not."""
        if self._closing or self._wakeup is None:
            raise CollectorError("the collector is shutting down; retry")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((lines, messages, future))
        self._wakeup.set()
        await asyncio.shield(future)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            due = self._due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=due)
            self._wakeup.clear()
            pending, self._queue = self._queue, []
            if pending:
                await self._commit(loop, pending)
            elif (due := self._due()) is not None and due <= 0:
                await loop.run_in_executor(self._executor, self._rotate)
            if self._closing and not self._queue:
                await loop.run_in_executor(self._executor, self._rotate)
                return

    async def _commit(self, loop: asyncio.AbstractEventLoop, pending: list) -> None:
        data = b"".join(lines for lines, _, _ in pending)
        try:
            await loop.run_in_executor(self._executor, self._write, data)
        except OSError as exc:
            log.error("spool %s: write failed (%s); %d requests answered 503", self.source, exc, len(pending))
            error = CollectorError(f"the {self.source} spool cannot write ({exc.strerror}); retry later")
            for _, _, future in pending:
                if not future.done():
                    future.set_exception(error)
            return
        self.stats.requests += len(pending)
        self.stats.lines += sum(count for _, count, _ in pending)
        self.stats.bytes += len(data)
        for _, _, future in pending:
            if not future.done():
                future.set_result(None)

    async def close(self) -> None:
        """Write what is queued, publish the open file, stop."""
        self._closing = True
        if self._task is not None and self._wakeup is not None:
            self._wakeup.set()
            await self._task
        self._executor.shutdown(wait=True)


class Spool:
    """The spools of every source, under one lock (one server per spool directory)."""

    def __init__(
        self, spool_dir: Path, landing_dir: Path, sources: tuple[str, ...], rotate_bytes: int, rotate_seconds: float
    ):
        self.directory = spool_dir
        self.sources = {s: SourceSpool(s, spool_dir, landing_dir, rotate_bytes, rotate_seconds) for s in sources}
        self._lock_fd: int | None = None

    def lock(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "collector.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise CollectorError(
                f"another `audience serve` is using the spool {self.directory}; stop it, or give this one "
                "its own AUDIENCE_COLLECTOR_SPOOL_DIR"
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    async def start(self) -> None:
        self.lock()
        for spool in self.sources.values():
            await spool.start()

    async def close(self) -> None:
        for spool in self.sources.values():
            await spool.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __getitem__(self, source: str) -> SourceSpool:
        return self.sources[source]
