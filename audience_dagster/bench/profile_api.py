"""``audience bench profile-api``: profile lookups over HTTP at N profiles (default 1M).

A scratch database (``audience_bench_profiles``) gets the real shapes: bootstrap's scores,
predictions and segment tables, the identity tables (``identity.identity_map``,
``identity.profiles``), ``marts.audience_profile_base`` with the columns and types of its dbt
contract and its primary key, and the ``marts.audience_profiles`` view rendered from the dbt
model itself. Synthetic rows, generated in SQL: per profile an email, a user id and two
anonymous ids in the identity map (4M rows), scores with per-rule points, four predictions
(4M rows), two segment memberships; 10% more profile ids retired by merges. Then a real
``audience serve`` answers ``clients`` concurrent keep-alive clients, each request looking a
random person up by profile id, email, user id, anonymous id or a merged id, in turn, with every
section (scores with explanations, segments, predictions). Ends with ``p50_ms=… p99_ms=…``
overall and per lookup, measured by the clients (HTTP included). Prints figures; asserts nothing.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import jinja2
import numpy as np
import yaml

from audience_dagster.bench.database import bench_database_url, drop_bench_database
from audience_dagster.collector.keystore import create_key
from audience_dagster.collector.process import ServerProcess
from audience_dagster.config import DBT_PROJECT_DIR, load_settings
from audience_dagster.warehouse.connection import bootstrap, connection

BENCH_DB = "audience_bench_profiles"
MODELS = DBT_PROJECT_DIR / "models" / "marts" / "audience"
LOOKUP_KINDS = ("profile_id", "email", "user_id", "anonymous_id", "merged_id")
SEGMENTS = 7
# (engagement, wtp, lead, health) points per rule: the arrays the scores asset writes
TERMS = {"engagement": 4, "wtp": 9, "lead": 5, "health": 4}


def profile_base_ddl() -> str:
    """``marts.audience_profile_base`` with its dbt contract's columns and types."""
    models = yaml.safe_load((MODELS / "_audience__models.yml").read_text())["models"]
    [base] = [m for m in models if m["name"] == "audience_profile_base"]
    columns = ",\n    ".join(f"{c['name']} {c['data_type']}" for c in base["columns"])
    return f"CREATE TABLE marts.audience_profile_base (\n    {columns}\n)"


def profiles_view_sql() -> str:
    """The dbt model ``audience_profiles`` rendered with its refs and sources resolved."""
    template = jinja2.Template((MODELS / "audience_profiles.sql").read_text())
    body = template.render(config=lambda **_: "", ref=lambda name: f"marts.{name}", source=lambda _s, t: f"marts.{t}")
    return f"CREATE VIEW marts.audience_profiles AS {body}"


def _points(kind: str, n: int) -> str:
    return "ARRAY[" + ", ".join(f"((i * {7 + k} + {k}) % 11 - 3)::smallint" for k in range(n)) + "]"


def fill_statements(profiles: int) -> list[str]:
    """Set-based generation of every table (profile i has id md5('p' || i)::uuid)."""
    n, merged = profiles, profiles // 10
    pid = "md5('p' || i)::uuid"
    score_terms = ", ".join(
        f"('{kind}', {k + 1}, '{kind}_rule_{k + 1}')" for kind, count in TERMS.items() for k in range(count)
    )
    return [
        f"""INSERT INTO marts.audience_profile_base (id, email, phone, external_ids, first_name, last_name, city,
            country, first_seen_at, last_seen_at, total_sessions, total_pageviews, total_events, emails_received,
            total_orders, total_revenue, interests, preferred_channels, gdpr_consent, do_not_track, created_at,
            updated_at)
        SELECT {pid}, 'person' || i || '@bench.io', '+1555' || lpad(i::text, 7, '0'),
               jsonb_build_object('user_id', 'user-' || i), 'First' || i % 1000, 'Last' || i % 977, 'City' || i % 300,
               'US', now() - (i % 700) * interval '1 day', now() - (i % 90) * interval '1 day', i % 40, i % 200,
               i % 500, i % 30, i % 6, (i % 6) * 41.5, ARRAY['books', 'shoes'], ARRAY['website'], i % 3 = 0,
               false, now(), now()
        FROM generate_series(1, {n}) AS i""",
        f"""INSERT INTO identity.identity_map
        SELECT t, v, {pid}, false, false, now() - interval '100 days', now()
        FROM generate_series(1, {n}) AS i
        CROSS JOIN LATERAL (VALUES ('email', 'person' || i || '@bench.io'), ('user_id', 'user-' || i),
                                   ('anonymous_id', 'anon-' || i), ('anonymous_id', 'anon-b-' || i)) AS x (t, v)""",
        f"""INSERT INTO identity.profiles (profile_id, created_at, status, current_profile_id)
        SELECT {pid}, now(), 'active', {pid} FROM generate_series(1, {n}) AS i""",
        f"""INSERT INTO identity.profiles (profile_id, created_at, status, merged_into, retired_at, current_profile_id)
        SELECT md5('m' || i)::uuid, now(), 'merged', {pid}, now(), {pid} FROM generate_series(1, {merged}) AS i""",
        f"""INSERT INTO marts.profile_scores
        SELECT {pid}, i % 101, 30 + i % 60, i % 90, 40 + i % 50,
               (ARRAY['visitor', 'subscriber', 'customer'])[1 + i % 3], 1 + i % 5, 1 + i % 4, 1 + i % 5,
               'champions', {_points("e", 4)}, {_points("w", 9)}, {_points("l", 5)}, {_points("h", 4)}, now()
        FROM generate_series(1, {n}) AS i""",
        f"INSERT INTO marts.score_terms VALUES {score_terms}",
        f"""INSERT INTO marts.predictions (profile_id, prediction_type, predicted_value, confidence, model_version,
            features_used, valid_until)
        SELECT {pid}, t, (i % 100) / 100.0, 0.8, 'bench-1', '{{"recency_days": 0.4, "orders": 0.2}}',
               now() + interval '7 days'
        FROM generate_series(1, {n}) AS i CROSS JOIN unnest(ARRAY['churn', 'ltv', 'next_purchase', 'upgrade']) AS t""",
        f"""INSERT INTO marts.micro_segments (name, slug, segment_type)
        SELECT 'Segment ' || s, 'segment-' || s, 'rule_based' FROM generate_series(1, {SEGMENTS}) AS s""",
        f"""INSERT INTO marts.segment_membership (profile_id, segment_id, score, source)
        SELECT {pid}, m.id, 0.5, 'automatic' FROM generate_series(1, {n}) AS i
        JOIN marts.micro_segments AS m
          ON m.slug IN ('segment-' || (1 + i % {SEGMENTS}), 'segment-' || (1 + (i + 3) % {SEGMENTS}))""",
        "ALTER TABLE marts.audience_profile_base ADD PRIMARY KEY (id)",
        "CREATE UNIQUE INDEX idx_audience_profiles_email ON marts.audience_profile_base (email)",
        "ANALYZE",
    ]


def build_database(profiles: int) -> str:
    url = bench_database_url(BENCH_DB)
    bootstrap(url)  # every capability's schema, the collector's and identity's included
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(profile_base_ddl())
        cur.execute(profiles_view_sql())
    for statement in fill_statements(profiles):
        started = time.perf_counter()
        with connection(url) as conn, conn.cursor() as cur:
            cur.execute(statement)
        print(f"[bench] {statement.split()[0:3]} {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return url


def request_paths(profiles: int, count: int, seed: int) -> list[tuple[str, str]]:
    """(lookup kind, path) for ``count`` random people, the lookup kinds in turn."""
    rng = np.random.default_rng(seed)
    people = rng.integers(1, profiles + 1, count)
    merged = rng.integers(1, profiles // 10 + 1, count)
    paths = []
    for n, (person, old) in enumerate(zip(people, merged, strict=True)):
        kind = LOOKUP_KINDS[n % len(LOOKUP_KINDS)]
        path = {
            "profile_id": f"/v1/profiles/{_md5_uuid('p', person)}",
            "email": f"/v1/profiles?email=person{person}%40bench.io",
            "user_id": f"/v1/profiles?user_id=user-{person}",
            "anonymous_id": f"/v1/profiles?anonymous_id=anon-b-{person}",
            "merged_id": f"/v1/profiles/{_md5_uuid('m', old)}",
        }[kind]
        paths.append((kind, path))
    return paths


def _md5_uuid(prefix: str, i: int) -> str:
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(f"{prefix}{i}".encode()).hexdigest()))


def run_clients(port: int, token: str, paths: list[tuple[str, str]], clients: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {kind: [] for kind in LOOKUP_KINDS}
    failures: list[int] = []
    lock = threading.Lock()

    def worker(share: list[tuple[str, str]]) -> None:
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}"}
        for kind, path in share:
            started = time.perf_counter()
            connection_.request("GET", path, headers=headers)
            response = connection_.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                (timings[kind].append(elapsed) if response.status == 200 else failures.append(response.status))
        connection_.close()

    threads = [threading.Thread(target=worker, args=(paths[c::clients],)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"[bench] {len(failures)} requests failed: statuses {sorted(set(failures))}", file=sys.stderr)
    return timings


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes (Linux /proc), for a figure the machine's load does not move."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def serving_pids(url: str, server_pid: int) -> list[int]:
    """The server and the PostgreSQL backends of its pool."""
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return [server_pid, *(row[0] for row in cur.fetchall())]


def latency_figures(timings: dict[str, list[float]], seconds: float, prefix: str = "") -> dict[str, object]:
    every = np.array([t for values in timings.values() for t in values]) * 1000
    figures: dict[str, object] = {
        f"{prefix}requests": len(every),
        f"{prefix}requests_per_s": len(every) / seconds,
        f"{prefix}p50_ms": float(np.percentile(every, 50)),
        f"{prefix}p99_ms": float(np.percentile(every, 99)),
    }
    for kind, values in timings.items():
        figures[f"{prefix}{kind}_p99_ms"] = float(np.percentile(np.array(values) * 1000, 99))
    return figures


def run_profile_api_bench(
    profiles: int = 1_000_000,
    requests: int = 20_000,
    clients: tuple[int, ...] = (1, 4),
    port: int = 0,
    keep: bool = False,
) -> dict[str, object]:
    """Figures for the first client count as ``p50_ms`` …, for the others as ``c<n>_p50_ms`` …"""
    started = time.perf_counter()
    url = build_database(profiles)
    build_seconds = time.perf_counter() - started
    token = create_key(url, "read", "bench").token
    assert token is not None
    work = load_settings().home / "bench_profile_api"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server = ServerProcess(
        {"DATABASE_URL": url, "AUDIENCE_LANDING_DIR": str(work / "landing")}, port=port, log_path=work / "serve.log"
    ).start()
    figures: dict[str, object] = {"profiles": profiles}
    try:
        run_clients(server.port, token, request_paths(profiles, 1_000, seed=1), max(clients))  # warm-up
        assert server.process is not None
        pids = serving_pids(url, server.process.pid)
        for n, count in enumerate(clients):
            timed_started, cpu_started = time.perf_counter(), process_cpu_seconds(pids)
            timings = run_clients(server.port, token, request_paths(profiles, requests, seed=2 + n), count)
            prefix = "" if n == 0 else f"c{count}_"
            figures.update(
                {f"{prefix}clients": count, **latency_figures(timings, time.perf_counter() - timed_started, prefix)}
            )
            # CPU of the server and its backends per request: a figure the machine's load does not move
            figures[f"{prefix}cpu_ms_per_request"] = (process_cpu_seconds(pids) - cpu_started) * 1000 / requests
    finally:
        server.stop()
    figures["build_s"] = build_seconds
    figures["load_1min"] = os.getloadavg()[0]
    drop_bench_database(url, BENCH_DB, keep)
    return figures
