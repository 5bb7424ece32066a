"""The official SDKs → `audience serve` (killed with SIGKILL half-way) → spool → the Dagster
refresh (real ingest, dbt build, identity) → raw tables, marts.audience_events and the profile
API; then the profile API's lookups, merges, fields, erasure, and a fuzz over every endpoint."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segment.analytics import Client
from segment.analytics.request import DatetimeSerializer

from audience_dagster.ingest.loader import load_source
from audience_dagster.ingest.sources import SEGMENT
from audience_dagster.privacy import Lookup, erase_person
from audience_dagster.runtime import prepare_runtime
from audience_dagster.warehouse.connection import connection
from tests.collector.conftest import Collector, clean_landing, start_collector
from tests.collector.test_server import SENDGRID_EVENTS, SHOPIFY_ORDER, rows

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).parent / "node"
GRACE = {"anon": "py-anon-1", "user": "py-user-1", "email": "Grace@Hopper.io"}
LINUS = {"anon": "node-anon-1", "user": "node-user-1", "email": "linus@torvalds.io"}


@dataclass
class Built:
    collector: Collector
    python_messages: list[dict]

    def read(self, path: str, **kwargs):
        return self.collector.get(path, headers={"Authorization": f"Bearer {self.collector.keys.read}"}, **kwargs)


def send_with_python_sdk(collector: Collector) -> list[dict]:
    errors: list[Exception] = []
    client = Client(
        collector.keys.write, host=collector.base, gzip=True, max_retries=2, on_error=lambda e, batch: errors.append(e)
    )
    anon, user, email = GRACE["anon"], GRACE["user"], GRACE["email"]
    calls = [
        client.page(anonymous_id=anon, name="Home", properties={"url": "https://shop.example.dev/", "path": "/"}),
        client.track(anonymous_id=anon, event="Product Viewed", properties={"product_id": "sku-9", "price": 30}),
        client.identify(user_id=user, anonymous_id=anon, traits={"email": email, "first_name": "Grace"}),
        client.track(user_id=user, event="Article Read", properties={"title": "COBOL"}),
        client.screen(user_id=user, name="Cart"),
        client.group(user_id=user, group_id="navy"),
        client.alias(previous_id=anon, user_id=user),
        # do-not-track: counted by ingest, never stored
        client.track(anonymous_id="dnt-anon", event="Page Scrolled", context={"doNotTrack": True}),
    ]
    client.flush()
    client.join()
    assert errors == []
    return [message for ok, message in calls if ok]


def send_with_node_sdk(collector: Collector) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        pytest.fail("the Node SDK test needs node and `make node-sdk` (npm ci in tests/collector/node)")
    done = subprocess.run(
        [node, "send.js", collector.base, collector.keys.write, LINUS["user"], LINUS["anon"], LINUS["email"]],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    statuses = [json.loads(line)["status"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert statuses and set(statuses) == {200}


def refresh() -> dg.ExecuteInProcessResult:
    prepare_runtime()
    from audience_dagster.definitions import defs

    with dg.DagsterInstance.get() as instance:
        return defs.resolve_job_def("audience_refresh").execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module")
def built(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    collector = start_collector(warehouse_url, tmp_path_factory.mktemp("e2e"))
    try:
        python_messages = send_with_python_sdk(collector)
        collector.server.kill()  # SIGKILL after the SDK's batch was acknowledged
        collector.restart()
        # the SDK never saw an answer (say) and sends the batch again: deduplicated by messageId
        replay = json.dumps({"batch": python_messages}, cls=DatetimeSerializer).encode()
        assert collector.post("/v1/batch", replay, auth=(collector.keys.write, "")).status_code == 200
        send_with_node_sdk(collector)
        sendgrid = json.dumps([{**e, "email": GRACE["email"].lower()} for e in SENDGRID_EVENTS]).encode()
        path = f"/v1/webhooks/sendgrid/{collector.keys.sendgrid_id}"
        assert collector.post(path, sendgrid, headers=collector.keys.sendgrid_headers(sendgrid)).status_code == 200
        order = json.dumps({**SHOPIFY_ORDER, "email": GRACE["email"], "customer": None}).encode()
        path = f"/v1/webhooks/shopify/{collector.keys.shopify_id}"
        assert collector.post(path, order, headers=collector.keys.shopify_headers(order)).status_code == 200
        collector.server.stop()  # publishes the open spool files
        result = refresh()
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        collector.restart()
        yield Built(collector, python_messages)
    finally:
        collector.server.stop()
        clean_landing()


def test_every_sdk_message_reaches_raw_once_and_the_marts(built: Built) -> None:
    url = built.collector.url
    ids = [m["messageId"] for m in built.python_messages]
    dnt = [m["messageId"] for m in built.python_messages if m.get("context", {}).get("doNotTrack")]
    stored = rows(
        url, "SELECT message_id, count(*) FROM raw.segment_messages WHERE message_id = ANY(%s) GROUP BY 1", (ids,)
    )
    assert {m for m, _ in stored} == set(ids) - set(dnt) and {n for _, n in stored} == {1}
    [(node_messages,)] = rows(
        url,
        "SELECT count(*) FROM raw.segment_messages WHERE user_id = %s OR anonymous_id = %s",
        (LINUS["user"], LINUS["anon"]),
    )
    assert node_messages == 7  # page, track, identify, track, screen, group, alias
    [(library,)] = rows(
        url,
        "SELECT DISTINCT payload #>> '{context,library,name}' FROM raw.segment_messages WHERE user_id = %s",
        (LINUS["user"],),
    )
    assert library == "@segment/analytics-node"
    # page, screen, identify and track become audience events, once each, with Grace's profile
    evented = [m["messageId"] for m in built.python_messages if m["type"] in ("page", "screen", "identify", "track")]
    events = rows(
        url,
        "SELECT source_record_id, profile_id FROM marts.audience_events WHERE source_system = 'segment'"
        " AND source_record_id = ANY(%s)",
        (evented,),
    )
    assert sorted(e for e, _ in events) == sorted(set(evented) - set(dnt))
    assert len({p for _, p in events}) == 1  # the anonymous history joined the identified profile
    [(email_events,)] = rows(url, "SELECT count(*) FROM marts.audience_events WHERE source = 'email'")
    assert email_events == 2
    [(orders,)] = rows(url, "SELECT count(*) FROM marts.audience_events WHERE event_type = 'purchase'")
    assert orders == 1


def test_the_profile_api_finds_a_person_by_every_key(built: Built) -> None:
    by_email = built.read("/v1/profiles", params={"email": "  grace@HOPPER.io "})
    assert by_email.status_code == 200, by_email.text
    profile = by_email.json()
    for lookup, value in (("user_id", GRACE["user"]), ("anonymous_id", GRACE["anon"])):
        assert built.read("/v1/profiles", params={lookup: value}).json()["id"] == profile["id"], lookup
    by_id = built.read(f"/v1/profiles/{profile['id']}").json()
    assert by_id.pop("resolved_from") == {"lookup": "profile_id", "profile_id": profile["id"]}
    assert by_id == {k: v for k, v in profile.items() if k != "resolved_from"}
    assert profile["email"] == "grace@hopper.io" and profile["external_ids"]["user_id"] == GRACE["user"]
    assert profile["total_orders"] == 1 and profile["emails_received"] >= 1
    assert profile["resolved_from"] == {"lookup": "email", "profile_id": profile["id"]}
    for kind in ("engagement", "wtp", "lead", "health"):
        score = profile["scores"][kind]
        assert isinstance(score["score"], int) and isinstance(score["explanation"], list)
        assert all({"rule", "points"} == set(item) for item in score["explanation"])
    engagement = profile["scores"]["engagement"]
    assert sum(item["points"] for item in engagement["explanation"]) == engagement["score"]  # uncapped here
    assert isinstance(profile["segments"], list) and isinstance(profile["predictions"], dict)
    assert set(profile["predictions"]) <= {"churn", "ltv", "next_purchase", "upgrade"}
    linus = built.read("/v1/profiles", params={"email": LINUS["email"]}).json()
    assert linus["id"] != profile["id"] and linus["first_name"] == "Linus"


def test_fields_trim_the_answer(built: Built) -> None:
    answer = built.read("/v1/profiles", params={"user_id": GRACE["user"], "fields": "email,scores,predictions"})
    assert set(answer.json()) == {"id", "email", "scores", "predictions"}
    bad = built.read("/v1/profiles", params={"user_id": GRACE["user"], "fields": "email,password"})
    assert (bad.status_code, bad.json()["code"]) == (400, "unknown_field")


def test_a_merged_id_resolves_to_the_survivor_and_unknowns_are_404(built: Built) -> None:
    url = built.collector.url
    survivor = built.read("/v1/profiles", params={"user_id": GRACE["user"]}).json()["id"]
    retired = str(uuid.uuid4())
    with connection(url) as conn, conn.cursor() as cur:  # a profile the identity graph merged into Grace's
        cur.execute(
            "INSERT INTO identity.profiles (profile_id, created_at, status, merged_into, retired_at,"
            " current_profile_id) VALUES (%s, now(), 'merged', %s, now(), %s)",
            (retired, survivor, survivor),
        )
    answer = built.read(f"/v1/profiles/{retired}").json()
    assert answer["id"] == survivor and answer["resolved_from"] == {"lookup": "profile_id", "profile_id": retired}
    for path, params in (
        (f"/v1/profiles/{uuid.uuid4()}", {}),
        ("/v1/profiles/not-a-uuid", {}),
        ("/v1/profiles", {"email": "nobody@nowhere.dev"}),
        ("/v1/profiles", {"anonymous_id": "never-seen"}),
    ):
        assert built.read(path, params=params).status_code == 404, (path, params)
    assert built.read("/v1/profiles", params={"email": "a@b.dev", "user_id": "u"}).status_code == 400
    assert built.read("/v1/profiles").status_code == 400
    assert built.collector.get("/v1/profiles", params={"user_id": GRACE["user"]}).status_code == 401


ENDPOINTS = [
    "/v1/batch",
    "/v1/track",
    "/v1/t",
    "/v1/identify",
    "/v1/page",
    "/v1/b",
    "/v1/alias",
    "/v1/import",
    "/v1/webhooks/sendgrid/{sendgrid}",
    "/v1/webhooks/shopify/{shopify}",
    "/v1/webhooks/shopify/k_nope",
    "/v1/profiles",
    "/v1/profiles/{uuid}",
    "/v1/profiles/%00",
    "/health",
    "/v1/../v1/batch",
    "/v2/batch",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
segment_keys = st.sampled_from(
    [
        "type",
        "event",
        "userId",
        "anonymousId",
        "messageId",
        "timestamp",
        "sentAt",
        "properties",
        "context",
        "traits",
        "batch",
        "writeKey",
        "previousId",
        "integrations",
    ]
)
messages = st.dictionaries(segment_keys, json_values, max_size=8)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(messages, max_size=5).map(lambda batch: json.dumps({"batch": batch}).encode()),
    messages.map(lambda m: json.dumps(m).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    method=st.sampled_from(["POST", "GET", "PUT", "OPTIONS"]),
    body=bodies,
    auth=st.sampled_from(["write", "read", "junk", "none"]),
    encoding=st.sampled_from([None, "gzip", "br", "identity"]),
    query=st.dictionaries(
        st.sampled_from(["email", "user_id", "anonymous_id", "profile_id", "fields"]), st.text(max_size=15), max_size=3
    ),
)
def test_fuzz_finds_no_server_error(built: Built, endpoint, method, body, auth, encoding, query) -> None:
    import requests

    keys = built.collector.keys
    path = endpoint.format(sendgrid=keys.sendgrid_id, shopify=keys.shopify_id, uuid=uuid.uuid4())
    headers = {"Content-Encoding": encoding} if encoding else {}
    token = {"write": keys.write, "read": keys.read, "junk": "aw_" + "z" * 43, "none": None}[auth]
    if token:
        headers["Authorization"] = f"Bearer {token}" if auth == "read" else requests.auth._basic_auth_str(token, "")
    answer = requests.request(method, built.collector.base + path, data=body, headers=headers, params=query, timeout=30)
    assert answer.status_code < 500, (path, method, answer.status_code, answer.text[:300])


def test_an_erased_person_is_404_and_what_they_send_later_is_not_stored(built: Built) -> None:
    collector = built.collector
    profile = built.read("/v1/profiles", params={"email": GRACE["email"]}).json()
    with connection(collector.url) as conn:
        erase_person(conn, Lookup("email", GRACE["email"]))
    for path, params in (
        (f"/v1/profiles/{profile['id']}", {}),
        ("/v1/profiles", {"email": GRACE["email"]}),
        ("/v1/profiles", {"anonymous_id": GRACE["anon"]}),
    ):
        assert built.read(path, params=params).status_code == 404, path
    assert built.read("/v1/profiles", params={"email": LINUS["email"]}).status_code == 200
    # her SDK calls after the erasure: accepted (the collector does not know), suppressed at ingest
    later = {
        "type": "identify",
        "messageId": "after-erasure",
        "userId": GRACE["user"],
        "traits": {"email": GRACE["email"]},
    }
    assert (
        collector.post(
            "/v1/batch", json.dumps({"batch": [later]}).encode(), auth=(collector.keys.write, "")
        ).status_code
        == 200
    )
    collector.server.stop()
    report = load_source(collector.url, SEGMENT, collector.landing, future_tolerance=timedelta(days=1))
    collector.restart()
    assert report.total("suppressed") == 1
    assert rows(collector.url, "SELECT count(*) FROM raw.segment_messages WHERE message_id = 'after-erasure'") == [(0,)]
