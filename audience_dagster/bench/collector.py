"""``audience bench collector``: N concurrent clients over loopback post 100-message batches to a
real ``audience serve`` (a child process), optionally SIGKILLed half-way and restarted; then every
published file is loaded by the real ingest into a scratch database (``audience_bench_collector``)
and the acknowledged messageIds are looked up there.

Clients behave like the SDKs: keep-alive connections, HTTP Basic with the write key, and a batch
that got no 200 (connection refused or reset while the server is down, a 503) is sent again
until it is acknowledged. Ends with ``events_per_s=… p50_ms=… p99_ms=… acked=… stored=… lost=…``:
``events_per_s`` counts acknowledged (fsync'd) messages over the load's wall clock, the
latencies are those of acknowledged requests, ``stored`` the acknowledged messageIds found in
``raw.segment_messages`` after ingest, ``lost`` the acknowledged ones that are not. Prints
figures; asserts nothing (the command exits 1 when ``lost`` is not 0).
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import orjson

from audience_dagster.bench.database import bench_database_url
from audience_dagster.collector.keystore import create_key, ensure_schema
from audience_dagster.collector.process import ServerProcess
from audience_dagster.config import load_settings
from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import SEGMENT
from audience_dagster.warehouse.connection import bootstrap, connection

BENCH_DB = "audience_bench_collector"
# an analytics.js-shaped track call (~650 bytes once serialised with its ids)
TEMPLATE = {
    "type": "track",
    "event": "Product Viewed",
    "messageId": "@ID@",
    "anonymousId": "@ANON@",
    "timestamp": "2026-03-01T10:00:00.000Z",
    "properties": {"product_id": "8104000000001", "category": "books", "price": 12.5, "currency": "USD"},
    "context": {
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "page": {"path": "/p/8104000000001", "url": "https://shop.example.dev/p/8104000000001", "title": "A book"},
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/126.0.0.0 Safari/537.36",
        "locale": "en-GB",
        "timezone": "Europe/London",
    },
    "integrations": {},
}


@dataclass
class Load:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_BEFORE_ID, _REST = orjson.dumps(TEMPLATE).split(b"@ID@")
_BEFORE_ANON, _AFTER_ANON = _REST.split(b"@ANON@")


def batch_body(client: int, sequence: int, size: int) -> tuple[bytes, list[str]]:
    """A batch of ``size`` distinct messages (ids ``c<client>-<sequence>-<i>``, 50 visitors a client)."""
    ids = [f"c{client}-{sequence}-{i}" for i in range(size)]
    messages = [
        b"".join((_BEFORE_ID, mid.encode(), _BEFORE_ANON, f"anon-{client}-{i % 50}".encode(), _AFTER_ANON))
        for i, mid in enumerate(ids)
    ]
    return b'{"batch":[' + b",".join(messages) + b'],"sentAt":"2026-03-01T10:00:01.000Z"}', ids


def client_loop(client: int, port: int, token: str, size: int, deadline: float, load: Load) -> None:
    """Post batches until ``deadline``; a batch not answered 200 is retried until it is."""
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    connection_: http.client.HTTPConnection | None = None
    sequence = 0
    while time.monotonic() < deadline:
        body, ids = batch_body(client, sequence, size)
        while True:
            started = time.perf_counter()
            try:
                if connection_ is None:
                    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection_.request("POST", "/v1/batch", body, headers)
                response = connection_.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
                if connection_ is not None:
                    connection_.close()
                connection_ = None
            if status == 200:
                with load.lock:
                    load.latencies.append(time.perf_counter() - started)
                    load.acked.extend(ids)
                break
            with load.lock:
                load.retries += 1
            time.sleep(0.05)  # the server is down or refusing: back off a little, send it again
        sequence += 1
    if connection_ is not None:
        connection_.close()


def stored_of(url: str, acked: list[str]) -> int:
    """How many of the acknowledged messageIds are in raw.segment_messages (one COPY, one join)."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE acked (message_id text PRIMARY KEY)")
        cur.copy_expert("COPY acked FROM STDIN", io.StringIO("".join(f"{m}\n" for m in acked)))
        cur.execute("SELECT count(*) FROM acked JOIN raw.segment_messages USING (message_id)")
        return int(cur.fetchone()[0])


def run_collector_bench(clients: int = 16, seconds: float = 20.0, batch: int = 100, kill: bool = False, port: int = 0):
    settings = load_settings()
    url = bench_database_url(BENCH_DB)
    bootstrap(url)
    ensure_schema(url)
    token = create_key(url, "write", "bench", source="segment").token
    assert token is not None
    work = settings.home / "bench_collector"
    shutil.rmtree(work, ignore_errors=True)
    landing = work / "landing"
    server = ServerProcess(
        {"DATABASE_URL": url, "AUDIENCE_LANDING_DIR": str(landing), "AUDIENCE_COLLECTOR_ROTATE_SECONDS": "10"},
        port=port,
        log_path=work / "serve.log",
    )
    landing.mkdir(parents=True)
    server.start()
    load = Load()
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=client_loop, args=(c, server.port, token, batch, deadline, load), daemon=True)
        for c in range(clients)
    ]
    for thread in threads:
        thread.start()
    restart_seconds = 0.0
    if kill:
        time.sleep(seconds / 2)
        killed_at = time.monotonic()
        server.kill()
        print(f"[bench] SIGKILL at {killed_at - started:.1f}s with {len(load.acked):,} acknowledged", file=sys.stderr)
        server.start()
        restart_seconds = time.monotonic() - killed_at
    for thread in threads:
        thread.join()
    load_seconds = time.monotonic() - started
    server.stop()
    print(f"[bench] load done: {len(load.acked):,} acknowledged in {load_seconds:.1f}s; ingesting", file=sys.stderr)
    ingest_started = time.perf_counter()
    report = load_source(url, SEGMENT, landing, future_tolerance=timedelta(days=3650), workers=2)
    ingest_seconds = time.perf_counter() - ingest_started
    stored = stored_of(url, load.acked)
    latencies = np.array(load.latencies) * 1000
    figures = {
        "clients": clients,
        "batch": batch,
        "killed": int(kill),
        "events_per_s": len(load.acked) / load_seconds,
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "acked": len(load.acked),
        "stored": stored,
        "lost": len(load.acked) - stored,
        "retried_requests": load.retries,
        "deduplicated_on_replay": report.total("duplicates"),
        "files": report.files_loaded,
        "restart_s": restart_seconds,
        "ingest_s": ingest_seconds,
        "load_1min": os.getloadavg()[0],
    }
    return figures
