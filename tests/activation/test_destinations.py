"""Destinations over real HTTP on loopback and the real PostgreSQL: exactly-once diffs across
refreshes (idempotency keys), retries then dead letters, a crash resumed from the cursor,
consent and do-not-track, and an erasure removed downstream."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audience_dagster.activation.delivery import Retry, verify_signature
from audience_dagster.activation.destinations_yaml import DestinationDefinition
from audience_dagster.activation.senders import FileSender, MailchimpSender, WebhookSender
from audience_dagster.activation.sync import run_sync, sync_definitions
from audience_dagster.privacy.erasure import erase_person
from audience_dagster.privacy.identifiers import Lookup
from audience_dagster.warehouse.connection import connection

pytestmark = pytest.mark.integration

SECRET = "whsec_test"
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
FAST = Retry(max_attempts=3, backoff_seconds=0.0, timeout_seconds=5.0)


def webhook(shop, receiver, batch_size: int = 2):
    definition = DestinationDefinition(
        "vip-hook", "VIP hook", "vip", "webhook", {"url": receiver.url + "/hook", "secret": "t"}
    )
    with connection(shop.url) as conn:
        sync_definitions(conn, [definition])
    sender = WebhookSender(receiver.url + "/hook", SECRET, FAST)

    def sync(**kwargs):
        with connection(shop.url) as conn:
            return run_sync(conn, definition, sender, AS_OF, batch_size, **kwargs)

    return sync


def changes_by_key(receiver) -> dict[str, list[tuple[str, str]]]:
    """Idempotency key -> the (type, profile_id) changes accepted under it (2xx; deduplicated, as
    a receiver honouring the key would)."""
    seen: dict[str, list[tuple[str, str]]] = {}
    for request in receiver.requests:
        if request.status < 300 and request.headers.get("Idempotency-Key"):
            body = request.json()
            seen.setdefault(request.headers["Idempotency-Key"], [(c["type"], c["profile_id"]) for c in body["changes"]])
    return seen


def flat(seen: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return sorted(change for changes in seen.values() for change in changes)


def test_two_refreshes_send_each_diff_exactly_once_and_never_without_consent(shop, receiver):
    for name in ("ann", "bob", "cat", "dan"):
        shop.add_person(name)
    shop.add_person("eve", consent=False)
    shop.add_person("fay", dnt=True)
    shop.join("ann", "bob", "cat", "dan", "eve", "fay")
    sync = webhook(shop, receiver)

    first = sync()
    assert (first.entered, first.exited, first.batches, first.sent, first.skipped_no_consent) == (4, 0, 2, 4, 2)
    shop.leave("ann")
    shop.add_person("gus")
    shop.join("gus")
    second = sync()
    assert (second.entered, second.exited, second.sent) == (1, 1, 2)
    third = sync()
    assert (third.entered, third.exited, third.batches) == (0, 0, 0)

    p = shop.people
    seen = changes_by_key(receiver)
    assert len(receiver.requests) == len(seen) == 3  # one request per batch, no retries needed
    assert flat(seen) == sorted(
        [("entered", p[n]) for n in ("ann", "bob", "cat", "dan", "gus")] + [("exited", p["ann"])]
    )
    for request in receiver.requests:
        assert verify_signature(SECRET, request.body, request.headers["X-Audience-Signature"], time.time())
        assert not verify_signature("wrong", request.body, request.headers["X-Audience-Signature"], time.time())
        assert p["eve"].encode() not in request.body and p["fay"].encode() not in request.body
        assert b"eve@example.com" not in request.body and b"fay@example.com" not in request.body


def test_a_failing_endpoint_is_retried_then_dead_lettered_and_replanned(shop, receiver):
    for name in ("ann", "bob", "cat"):
        shop.add_person(name)
    shop.join("ann", "bob", "cat")
    sync = webhook(shop, receiver)
    receiver.script = [503, 429]  # two failures, then the first batch goes through on try 3
    receiver.default = 200
    result = sync(after_send=lambda batch: setattr(receiver, "default", 500))  # ... and then it breaks
    assert (result.batches, result.sent, result.failed, result.dead_letters) == (2, 2, 1, 1)
    assert [r.status for r in receiver.requests] == [503, 429, 200] + [500] * FAST.max_attempts
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT attempts, last_status, changes, error FROM activation.dead_letters")
        attempts, status, changes, error = cur.fetchone()
        cur.execute("SELECT count(*) FROM activation.destination_members")
        held = cur.fetchone()[0]
    assert (attempts, status, changes, held) == (FAST.max_attempts, 500, 1, 2)
    assert "HTTP 500" in error

    receiver.default = 200
    again = sync()  # the dead-lettered change is not held, so the next sync plans it again
    assert (again.entered, again.sent, again.dead_letters) == (1, 1, 0)
    assert sorted(c[1] for c in flat(changes_by_key(receiver))) == sorted(shop.people.values())


def test_a_crash_between_batches_resumes_from_the_cursor_without_a_gap(shop, receiver):
    for name in ("ann", "bob", "cat", "dan", "eve"):
        shop.add_person(name)
    shop.join("ann", "bob", "cat", "dan", "eve")
    sync = webhook(shop, receiver, batch_size=1)

    def crash(batch):
        if batch.batch_no == 2:  # delivered, not yet committed: the cursor still points at it
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        sync(after_send=crash)
    resumed = sync()
    assert resumed.resumed and (resumed.batches, resumed.entered) == (5, 5)
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert len(keys) == 6 and len(set(keys)) == 5  # batch 3 went twice, under the same key
    assert keys[2] == keys[3]
    assert flat(changes_by_key(receiver)) == sorted(("entered", pid) for pid in shop.people.values())
    assert sync().batches == 0


KILLED_SYNC = """
import sys
from datetime import UTC, datetime
from audience_dagster.activation.delivery import Retry
from audience_dagster.activation.destinations_yaml import DestinationDefinition
from audience_dagster.activation.senders import WebhookSender
from audience_dagster.activation.sync import run_sync
from audience_dagster.warehouse.connection import connection

url, hook = sys.argv[1], sys.argv[2]
definition = DestinationDefinition("vip-hook", "VIP hook", "vip", "webhook", {"url": hook, "secret": "t"})
sender = WebhookSender(hook, "whsec_test", Retry(3, 0.0, 120.0))
with connection(url) as conn:
    run_sync(conn, definition, sender, datetime(2026, 11, 30, tzinfo=UTC), 1)
"""


def test_a_killed_sync_process_resumes_from_the_cursor(shop, receiver, tmp_path: Path):
    for name in ("ann", "bob", "cat", "dan"):
        shop.add_person(name)
    shop.join("ann", "bob", "cat", "dan")
    sync = webhook(shop, receiver, batch_size=1)  # also syncs the definition in
    receiver.stall_at = 3  # the third batch reaches the endpoint; the process dies waiting for the answer
    script = tmp_path / "killed_sync.py"
    script.write_text(KILLED_SYNC)
    process = subprocess.Popen([sys.executable, str(script), shop.url, receiver.url + "/hook"])
    try:
        assert receiver.stalled.wait(120), "the sync never reached its third batch"
    finally:
        process.kill()
        process.wait()
    receiver.release.set()
    resumed = sync()
    assert resumed.resumed and (resumed.batches, resumed.entered) == (4, 4)
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert len(keys) == 5 and keys[2] == keys[3] and len(set(keys)) == 4  # batch 3 again, same key
    assert flat(changes_by_key(receiver)) == sorted(("entered", pid) for pid in shop.people.values())


def test_an_erased_person_is_removed_from_every_destination_that_had_them(shop, receiver, tmp_path: Path):
    for name in ("ann", "bob"):
        shop.add_person(name)
    shop.join("ann", "bob")
    hook = webhook(shop, receiver)
    mailchimp = DestinationDefinition(
        "vip-mc", "VIP MC", "vip", "mailchimp", {"list_id": "L1", "segment_id": "7", "secret": "mc"}
    )
    files = DestinationDefinition("vip-files", "VIP files", "vip", "file", {})
    with connection(shop.url) as conn:
        sync_definitions(conn, [mailchimp, files])
    mc_sender = MailchimpSender(receiver.url, "L1", "7", "key-us1", FAST)
    file_sender = FileSender(tmp_path / "vip-files")

    def others():
        with connection(shop.url) as conn:
            return run_sync(conn, mailchimp, mc_sender, AS_OF, 500), run_sync(conn, files, file_sender, AS_OF, 500)

    hook()
    others()
    with connection(shop.url) as conn:
        erase_person(conn, Lookup("profile_id", shop.people["bob"]))
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM activation.destination_members WHERE erased_at IS NOT NULL")
        assert cur.fetchone()[0] == 3
    receiver.requests.clear()
    removed = hook()
    mc, fs = others()
    assert (removed.removed, mc.removed, fs.removed) == (1, 1, 1)
    bob_hash = hashlib.md5(b"bob@example.com").hexdigest()
    paths = [(r.method, r.path) for r in receiver.requests]
    assert ("POST", f"/lists/L1/members/{bob_hash}/actions/delete-permanent") in paths
    hook_changes = [c for r in receiver.requests if r.path == "/hook" for c in r.json()["changes"]]
    assert hook_changes == [
        {"type": "removed", "reason": "erasure", "profile_id": shop.people["bob"], "subscriber_key": shop.people["bob"]}
    ]
    assert all(b"bob@example.com" not in r.body for r in receiver.requests)
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM activation.destination_members")
        assert cur.fetchone()[0] == 3  # ann in each of the three
    snapshot = list(csv.DictReader((tmp_path / "vip-files" / "snapshot.csv").open()))
    assert [row["email"] for row in snapshot] == ["ann@example.com"]


def test_mailchimp_gets_its_documented_requests(shop, receiver):
    for name in ("ann", "bob", "rejected"):
        shop.add_person(name)
    shop.join("ann", "bob", "rejected")
    definition = DestinationDefinition(
        "vip-mc", "VIP MC", "vip", "mailchimp", {"list_id": "L1", "segment_id": "7", "secret": "mc"}
    )
    with connection(shop.url) as conn:
        sync_definitions(conn, [definition])
    sender = MailchimpSender(receiver.url, "L1", "7", "key-us1", FAST)
    with connection(shop.url) as conn:
        first = run_sync(conn, definition, sender, AS_OF, 500)
    upsert, segment = receiver.requests
    assert (upsert.method, upsert.path, segment.path) == ("POST", "/lists/L1", "/lists/L1/segments/7")
    assert upsert.headers["Authorization"].startswith("Basic ")
    members = upsert.json()["members"]
    assert sorted(m["email_address"] for m in members) == ["ann@example.com", "bob@example.com", "rejected@example.com"]
    assert all(m["status_if_new"] == "subscribed" for m in members) and upsert.json()["update_existing"] is True
    assert sorted(segment.json()["members_to_add"]) == ["ann@example.com", "bob@example.com"]
    assert (first.sent, first.failed) == (2, 1)  # the member Mailchimp rejected is not held

    receiver.requests.clear()
    shop.leave("ann")
    with connection(shop.url) as conn:
        second = run_sync(conn, definition, sender, AS_OF, 500)
    assert (second.entered, second.exited) == (1, 1)
    upsert, segment = receiver.requests  # rejected is offered again (and rejected again); ann leaves
    assert [m["email_address"] for m in upsert.json()["members"]] == ["rejected@example.com"]
    assert segment.json() == {"members_to_add": [], "members_to_remove": ["ann@example.com"]}


def test_file_destination_writes_each_diff_and_the_snapshot(shop, tmp_path: Path):
    for name in ("ann", "bob"):
        shop.add_person(name)
    shop.join("ann", "bob")
    definition = DestinationDefinition("vip-files", "VIP files", "vip", "file", {})
    with connection(shop.url) as conn:
        sync_definitions(conn, [definition])
        first = run_sync(conn, definition, FileSender(tmp_path), AS_OF, 500)
    shop.leave("bob")
    with connection(shop.url) as conn:
        second = run_sync(conn, definition, FileSender(tmp_path), AS_OF, 500)
    one = list(csv.DictReader((tmp_path / f"sync-{first.sync_id:06d}" / "diff-00001.csv").open()))
    two = (tmp_path / f"sync-{second.sync_id:06d}" / "diff-00001.jsonl").read_text().splitlines()
    assert sorted((r["type"], r["email"]) for r in one) == [
        ("entered", "ann@example.com"),
        ("entered", "bob@example.com"),
    ]
    assert len(two) == 1 and '"type": "exited"' in two[0] and "bob@example.com" in two[0]
    snapshot = (tmp_path / "snapshot.jsonl").read_text().splitlines()
    assert len(snapshot) == 1 and "ann@example.com" in snapshot[0]
