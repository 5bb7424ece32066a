"""The spool: group commit, rotation, publishing into the landing folder, recovery after a crash."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

import pytest

from audience_dagster.collector import spool as spool_module
from audience_dagster.collector.spool import PART_SUFFIX, SourceSpool, Spool, cut_torn_tail
from audience_dagster.errors import CollectorError


def published(landing: Path, source: str = "segment") -> list[Path]:
    return sorted((landing / source / "collector").glob("*.jsonl"))


def published_lines(landing: Path) -> list[bytes]:
    return [line for path in published(landing) for line in path.read_bytes().splitlines()]


def run(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_appends_share_syncs_and_close_publishes(tmp_path: Path) -> None:
    async def scenario() -> SourceSpool:
        spool = SourceSpool("segment", tmp_path / "spool", tmp_path / "landing", 1 << 30, 3600)
        await spool.start()
        await asyncio.gather(*(spool.append(b'{"n":%d}\n' % i, 1) for i in range(50)))
        assert list((tmp_path / "spool" / "segment").glob("*" + PART_SUFFIX))  # open, not yet published
        assert published(tmp_path / "landing") == []
        await spool.close()
        return spool

    spool = run(scenario())
    assert spool.stats.requests == 50 and spool.stats.lines == 50
    assert spool.stats.syncs < 50  # group commit: one sync released many requests
    assert sorted(published_lines(tmp_path / "landing")) == sorted(b'{"n":%d}' % i for i in range(50))
    assert list((tmp_path / "spool" / "segment").glob("*" + PART_SUFFIX)) == []


def test_files_rotate_by_size_and_keep_every_line_in_order(tmp_path: Path) -> None:
    async def scenario() -> None:
        spool = SourceSpool("segment", tmp_path / "spool", tmp_path / "landing", 100, 3600)
        await spool.start()
        for i in range(40):
            await spool.append(b'{"line":%03d}\n' % i, 1)  # 13 bytes: a file every 8 lines
        await spool.close()

    run(scenario())
    files = published(tmp_path / "landing")
    assert len(files) == 5
    assert published_lines(tmp_path / "landing") == [b'{"line":%03d}' % i for i in range(40)]


def test_an_idle_file_is_published_when_it_is_old_enough(tmp_path: Path) -> None:
    async def scenario() -> None:
        spool = SourceSpool("segment", tmp_path / "spool", tmp_path / "landing", 1 << 30, 0.2)
        await spool.start()
        await spool.append(b'{"a":1}\n', 1)
        deadline = time.monotonic() + 10
        while not published(tmp_path / "landing") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(published(tmp_path / "landing")) == 1  # published without a close or a new write
        await spool.close()

    run(scenario())


def test_recovery_publishes_what_a_killed_server_acknowledged_and_cuts_the_torn_tail(tmp_path: Path) -> None:
    directory = tmp_path / "spool" / "segment"
    directory.mkdir(parents=True)
    (directory / ("20260301T000000000000Z-aaaa" + PART_SUFFIX)).write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    (directory / ("20260301T000001000000Z-bbbb" + PART_SUFFIX)).write_bytes(b'{"torn')
    spool = SourceSpool("segment", tmp_path / "spool", tmp_path / "landing", 1 << 30, 3600)
    [recovered] = spool.recover()
    assert recovered.name == "20260301T000000000000Z-aaaa.jsonl"
    assert recovered.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert list(directory.iterdir()) == []  # the empty one is gone, nothing left to recover
    assert spool.recover() == []


def test_cut_torn_tail_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10 + b"\n" + b"y" * 200_000)
    assert cut_torn_tail(path) == 11 and path.read_bytes() == b"x" * 10 + b"\n"
    path.write_bytes(b"z" * 70_000)
    assert cut_torn_tail(path) == 0


def test_a_failed_write_is_refused_and_loses_nothing_acknowledged(tmp_path: Path, monkeypatch) -> None:
    real_write = os.write
    failures = iter([True])

    def flaky_write(fd: int, data) -> int:
        if next(failures, False):
            real_write(fd, bytes(data)[:5])  # half a line reached the file, then the disk filled up
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    async def scenario() -> None:
        spool = SourceSpool("segment", tmp_path / "spool", tmp_path / "landing", 1 << 30, 3600)
        await spool.start()
        await spool.append(b'{"ok":1}\n', 1)
        monkeypatch.setattr(spool_module.os, "write", flaky_write)
        with pytest.raises(CollectorError, match="cannot write"):
            await spool.append(b'{"refused":1}\n', 1)
        await spool.append(b'{"ok":2}\n', 1)  # the next request goes to a fresh file
        await spool.close()

    run(scenario())
    assert published_lines(tmp_path / "landing") == [b'{"ok":1}', b'{"ok":2}']


def test_one_server_per_spool_directory(tmp_path: Path) -> None:
    first = Spool(tmp_path / "spool", tmp_path / "landing", ("segment",), 1 << 20, 60)
    first.lock()
    second = Spool(tmp_path / "spool", tmp_path / "landing", ("segment",), 1 << 20, 60)
    with pytest.raises(CollectorError, match="another `audience serve`"):
        second.lock()
    run(first.close())
    second.lock()
    run(second.close())
