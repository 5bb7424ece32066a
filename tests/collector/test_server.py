"""The real server over loopback: Segment's answers, webhooks with signatures, keys, CORS, the
access log, and durability across `kill -9` (everything acknowledged reaches raw tables once)."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import orjson
import pytest
import requests

from audience_dagster.cli import main
from audience_dagster.collector.keystore import list_keys
from audience_dagster.collector.spool import PART_SUFFIX
from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import SEGMENT, SENDGRID, SHOPIFY
from audience_dagster.warehouse.connection import connection
from tests.collector.conftest import Collector

pytestmark = pytest.mark.integration


def message(i: int, prefix: str = "m", **extra) -> dict:
    return {
        "type": "track",
        "event": "Product Viewed",
        "messageId": f"{prefix}-{i}",
        "anonymousId": f"anon-{i % 7}",
        "timestamp": "2026-03-01T10:00:00.000Z",
        "properties": {"sku": f"sku-{i}"},
        **extra,
    }


def batch(messages: list[dict], **extra) -> bytes:
    return orjson.dumps({"batch": messages, "sentAt": "2026-03-01T10:00:01.000Z", **extra})


def lines_accepted(collector: Collector) -> int:
    return collector.get("/health").json()["spool"]["segment"]["lines"]


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_segment_calls_are_accepted_as_the_sdks_send_them(collector: Collector) -> None:
    auth = (collector.keys.write, "")
    before = lines_accepted(collector)
    answer = collector.post("/v1/batch", batch([message(1), message(2)]), auth=auth)
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    gzipped = gzip.compress(batch([message(3)]))
    assert collector.post("/v1/b", gzipped, auth=auth, headers={"Content-Encoding": "gzip"}).status_code == 200
    # analytics.js: writeKey in a text/plain body, short endpoint, no Authorization header
    single = orjson.dumps({**message(4), "writeKey": collector.keys.write})
    assert collector.post("/v1/t", single, headers={"Content-Type": "text/plain"}).status_code == 200
    for call in ("page", "p", "identify", "i", "screen", "s", "alias", "a", "group", "g", "track", "import"):
        body = orjson.dumps({"batch": [message(9)]} if call == "import" else message(9, prefix=call))
        assert collector.post(f"/v1/{call}", body, auth=auth).status_code == 200, call
    # a message ingest will quarantine is still a 200 (Segment's behaviour)
    assert (
        collector.post(
            "/v1/batch", batch([{"type": "track", "event": "Viewed", "messageId": "no-ids"}]), auth=auth
        ).status_code
        == 200
    )
    assert lines_accepted(collector) - before == 2 + 1 + 1 + 12 + 1


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code"),
    [
        ("/v1/batch", b"{not json", {}, 400, "invalid_json"),
        ("/v1/batch", b'{"batch": 5}', {}, 400, "invalid_body"),
        ("/v1/batch", batch([message(1, properties={"x": "y" * 33_000})]), {}, 400, "too_large"),
        ("/v1/batch", batch([message(i, properties={"x": "y" * 30_000}) for i in range(18)]), {}, 400, "too_large"),
        ("/v1/track", orjson.dumps(message(1, properties={"x": "y" * 33_000})), {}, 400, "too_large"),
        ("/v1/batch", b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"}, 400, "invalid_gzip"),
        (
            "/v1/batch",
            gzip.compress(b'{"batch":[' + b" " * 600_000 + b"]}"),
            {"Content-Encoding": "gzip"},
            400,
            "too_large",
        ),
        ("/v1/nope", b"{}", {}, 404, "not_found"),
    ],
)
def test_bad_requests_get_segments_answers_and_store_nothing(
    collector: Collector, path: str, body: bytes, headers: dict, status: int, code: str
) -> None:
    before = lines_accepted(collector)
    answer = collector.post(path, body, auth=(collector.keys.write, ""), headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["success"] is False and answer.json()["message"]
    assert lines_accepted(collector) == before


def test_unknown_wrong_kind_and_revoked_keys_are_401(collector: Collector) -> None:
    before = lines_accepted(collector)
    body = batch([message(1)])
    for auth in (None, ("aw_" + "x" * 43, ""), ("not-a-key", ""), (collector.keys.read, "")):
        answer = collector.post("/v1/batch", body, auth=auth)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized"), auth
    assert collector.post("/v1/t", orjson.dumps({**message(1), "writeKey": "aw_wrong"})).status_code == 401
    assert lines_accepted(collector) == before
    # a write key reads no profiles
    assert collector.get("/v1/profiles?email=a@b.dev", auth=(collector.keys.write, "")).status_code == 401


def test_a_revoked_key_stops_working_within_the_refresh(collector: Collector, capsys) -> None:
    assert main(["keys", "create", "--source", "segment", "--name", "temporary"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert collector.post("/v1/batch", batch([message(50, prefix="temp")]), auth=(token, "")).status_code == 200
    [key] = [k for k in list_keys(collector.url) if k.name == "temporary"]
    assert main(["keys", "revoke", key.key_id]) == 0
    deadline = time.monotonic() + 15  # AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS=1 here
    while time.monotonic() < deadline:
        if collector.post("/v1/batch", batch([message(51, prefix="temp")]), auth=(token, "")).status_code == 401:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the revoked key was still accepted after 15 s")
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key.key_id in listing and "revoked" in listing and token not in listing


def test_cors_lets_browsers_send_events(collector: Collector) -> None:
    preflight = requests.options(
        collector.base + "/v1/t",
        headers={
            "Origin": "https://shop.example.dev",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    body = orjson.dumps({**message(77), "writeKey": collector.keys.write})
    answer = collector.post("/v1/t", body, headers={"Origin": "https://shop.example.dev", "Content-Type": "text/plain"})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    # the profile API is for servers: no CORS
    profile = collector.get("/v1/profiles?email=x@y.dev", headers={"Origin": "https://shop.example.dev"})
    assert "access-control-allow-origin" not in profile.headers


SENDGRID_EVENTS = [
    {
        "email": "ada@lovelace.dev",
        "timestamp": 1767225600,
        "event": "delivered",
        "sg_event_id": "sg-delivered-1",
        "sg_message_id": "msg-1.filter",
        "smtp-id": "<msg-1@sendgrid>",
        "category": ["newsletter"],
    },
    {
        "email": "ada@lovelace.dev",
        "timestamp": 1767225700,
        "event": "open",
        "sg_event_id": "sg-open-1",
        "sg_message_id": "msg-1.filter",
        "useragent": "Mozilla/5.0",
        "ip": "203.0.113.9",
    },
]
SHOPIFY_ORDER = {
    "id": 820982911946154508,
    "email": "ada@lovelace.dev",
    "created_at": "2026-01-05T09:12:44-05:00",
    "total_price": "98.40",
    "currency": "USD",
    "financial_status": "paid",
    "customer": {"id": 115310627314723954, "email": "ada@lovelace.dev", "first_name": "Ada", "last_name": "Lovelace"},
    "line_items": [
        {"id": 866550311766439020, "product_id": 632910392, "title": "Book", "quantity": 2, "price": "49.20"}
    ],
}


def test_webhooks_are_stored_only_with_a_valid_signature(collector: Collector) -> None:
    keys = collector.keys
    body = json.dumps(SENDGRID_EVENTS).encode() + b"\r\n"
    sendgrid = f"/v1/webhooks/sendgrid/{keys.sendgrid_id}"
    assert collector.post(sendgrid, body, headers=keys.sendgrid_headers(body)).status_code == 200
    tampered = body.replace(b"delivered", b"bounce")
    assert collector.post(sendgrid, tampered, headers=keys.sendgrid_headers(body)).json()["code"] == "bad_signature"
    assert collector.post(sendgrid, body).status_code == 401
    assert (
        collector.post(
            f"/v1/webhooks/sendgrid/{keys.shopify_id}", body, headers=keys.sendgrid_headers(body)
        ).status_code
        == 401
    )
    order = json.dumps(SHOPIFY_ORDER, indent=2).encode()
    shopify = f"/v1/webhooks/shopify/{keys.shopify_id}"
    assert collector.post(shopify, order, headers=keys.shopify_headers(order)).status_code == 200
    assert collector.post(shopify, order, headers=keys.shopify_headers(order, "orders/updated")).status_code == 200
    assert collector.post(shopify, order + b" ", headers=keys.shopify_headers(order)).status_code == 401
    ignored = collector.post(shopify, order, headers=keys.shopify_headers(order, "customers/create"))
    assert ignored.status_code == 200 and ignored.json()["stored"] == 0
    health = collector.get("/health").json()["spool"]
    assert (health["sendgrid"]["lines"], health["shopify"]["lines"]) == (2, 2)


def test_kill_9_loses_nothing_acknowledged_and_replays_dedup(collector: Collector) -> None:
    auth = (collector.keys.write, "")
    acked = []
    for n in range(20):
        messages = [message(n * 50 + i, prefix="durable") for i in range(50)]
        assert collector.post("/v1/batch", batch(messages), auth=auth).status_code == 200
        acked += [m["messageId"] for m in messages]
    collector.server.kill()  # SIGKILL: no shutdown, the spool file is left open
    assert list((collector.landing / ".collector" / "segment").glob("*" + PART_SUFFIX))
    collector.restart()  # recovery publishes the left-over spool file
    # the client did not see the answer to its last batch and sends it again
    assert collector.post("/v1/batch", batch([message(999, prefix="durable")]), auth=auth).status_code == 200
    collector.server.stop()
    try:
        report = load_source(collector.url, SEGMENT, collector.landing, future_tolerance=timedelta(days=1))
        load_source(collector.url, SENDGRID, collector.landing, future_tolerance=timedelta(days=1))
        load_source(collector.url, SHOPIFY, collector.landing, future_tolerance=timedelta(days=1))
    finally:
        collector.restart()
    stored = {
        r[0]
        for r in rows(
            collector.url, "SELECT message_id FROM raw.segment_messages WHERE message_id LIKE %s", ("durable-%",)
        )
    }
    assert set(acked) <= stored and len(stored) == len(acked)  # every acknowledged one, each once
    assert report.total("duplicates") >= 1  # the replayed batch, deduplicated on messageId
    # what the server stamped: receivedAt now, sentAt from the batch, writeKey gone
    [(payload,)] = rows(collector.url, "SELECT payload FROM raw.segment_messages WHERE message_id = 'durable-0'")
    assert payload["sentAt"] == "2026-03-01T10:00:01.000Z" and payload["receivedAt"] > "2026-"
    assert "writeKey" not in payload
    assert rows(collector.url, "SELECT count(*) FROM raw.sendgrid_events")[0][0] == 2
    assert rows(collector.url, "SELECT count(*) FROM raw.shopify_orders")[0][0] == 1  # updated: same order id
    quarantined = rows(collector.url, "SELECT reason FROM raw.quarantine WHERE source = 'segment'")
    assert ("missing required field: anonymousId or userId",) in quarantined


def test_the_access_log_holds_no_personal_data(collector: Collector) -> None:
    collector.get("/v1/profiles?email=secret.person@example.dev", auth=(collector.keys.read, ""))
    collector.get("/v1/profiles/0b7c4e58-58f5-4b8e-9c43-000000000001", auth=(collector.keys.read, ""))
    collector.post("/v1/batch", batch([message(1, userId="user-secret-42")]), auth=(collector.keys.write, ""))
    deadline = time.monotonic() + 10
    while "GET /v1/profiles/{profile_id}" not in collector.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = collector.log.read_text()
    assert "POST /v1/batch 200" in log and "GET /v1/profiles " in log and "GET /v1/profiles/{profile_id}" in log
    for secret in (
        "secret.person",
        "0b7c4e58",
        "user-secret-42",
        "127.0.0.1:",
        collector.keys.write,
        collector.keys.read,
    ):
        assert secret not in log.replace(f"127.0.0.1:{collector.server.port}", "")


def test_a_second_server_on_the_same_spool_refuses_to_start(collector: Collector) -> None:
    from audience_dagster.collector.process import ServerProcess
    from audience_dagster.errors import CollectorError

    second = ServerProcess({"AUDIENCE_LANDING_DIR": str(collector.landing)}, log_path=collector.log)
    with pytest.raises(CollectorError, match="exited"):
        second.start()
    assert "another `audience serve` is using the spool" in collector.log.read_text()
    assert collector.server.healthy()
