"""A loopback HTTP receiver (webhook and Mailchimp stand-in) and a small warehouse of its own:
profiles with and without consent, one manual segment, the activation tables."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audience_dagster.warehouse.connection import bootstrap, connection
from tests.conftest import fresh_database


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the receiver answered

    def json(self) -> object:
        return json.loads(self.body) if self.body else None


@dataclass
class Receiver:
    """Records every request; ``script`` lists statuses to answer before answering ``default``."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    default: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    stall_at: int = 0  # the n-th request (1-based) waits for ``release`` before it is answered
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, request: Received) -> tuple[int, bytes]:
        with self.lock:
            self.requests.append(request)
            status = self.script.pop(0) if self.script else self.default
            request.status = status
            stall = len(self.requests) == self.stall_at
        if stall:
            self.stalled.set()
            self.release.wait(60)
        body = {"ok": status < 300}
        if request.path.startswith("/lists/") and request.path.count("/") == 2 and status < 300:
            document = request.json() or {}
            body = {"new_members": [], "updated_members": [], "errors": [], "error_count": 0}
            for member in document.get("members", []):
                if member["email_address"].startswith("reject"):
                    body["errors"].append(
                        {"email_address": member["email_address"], "error": "fake", "error_code": "ERROR_GENERIC"}
                    )
        return status, json.dumps(body).encode()

    def bodies(self, method: str = "POST") -> list[dict]:
        return [r.json() for r in self.requests if r.method == method and r.body]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            status, body = receiver.answer(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_DELETE = do_PUT = _handle

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


PROFILES_DDL = """
DROP VIEW IF EXISTS marts.audience_profiles;
DROP TABLE IF EXISTS marts.audience_profile_base;
CREATE TABLE marts.audience_profile_base (
    id uuid PRIMARY KEY, email text, phone text, first_name text, last_name text,
    gdpr_consent boolean, do_not_track boolean, lifecycle_stage text, wtp_score numeric, engagement_score numeric,
    total_orders integer DEFAULT 0, email_subscribed boolean DEFAULT true, interests text[]
);
DROP TABLE IF EXISTS marts.audience_events;
CREATE TABLE marts.audience_events (
    profile_id uuid, event_type text NOT NULL, properties jsonb DEFAULT '{}', content_id uuid,
    occurred_at timestamptz NOT NULL
);
CREATE VIEW marts.audience_profiles AS SELECT * FROM marts.audience_profile_base;
"""


@dataclass
class Shop:
    """The small warehouse: ``people`` name -> profile id; ``vip`` is the segment."""

    url: str
    people: dict[str, str]

    def add_person(self, name: str, consent: bool = True, dnt: bool = False, wtp: int = 80, orders: int = 0) -> str:
        pid = str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
        with connection(self.url) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO marts.audience_profile_base (id, email, first_name, last_name, gdpr_consent, do_not_track,"
                " lifecycle_stage, wtp_score, engagement_score, total_orders)"
                " VALUES (%s, %s, %s, 'Test', %s, %s, 'customer', %s, 50, %s)",
                (pid, f"{name}@example.com", name.title(), consent, dnt, wtp, orders),
            )
        self.people[name] = pid
        return pid

    def join(self, *names: str) -> None:
        with connection(self.url) as conn, conn.cursor() as cur:
            for name in names:
                cur.execute(
                    "INSERT INTO marts.segment_membership (profile_id, segment_id, source)"
                    " SELECT %s, id, 'manual' FROM marts.micro_segments WHERE slug = 'vip' ON CONFLICT DO NOTHING",
                    (self.people[name],),
                )

    def leave(self, *names: str) -> None:
        with connection(self.url) as conn, conn.cursor() as cur:
            cur.execute(
                "DELETE FROM marts.segment_membership WHERE profile_id = ANY(%s::uuid[])",
                ([self.people[n] for n in names],),
            )


@pytest.fixture()
def shop(warehouse_url: str, worker_id: str) -> Shop:
    url = fresh_database(warehouse_url, f"audience_test_activation_{worker_id}".replace("-", "_"))
    bootstrap(url)
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(PROFILES_DDL)
        cur.execute("INSERT INTO marts.micro_segments (name, slug, segment_type) VALUES ('VIP', 'vip', 'manual')")
    return Shop(url, {})
