"""Segment request bodies → spool lines: what the collector adds, and the requests it refuses."""

from __future__ import annotations

import gzip

import orjson
import pytest

from audience_dagster.collector.limits import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, RequestRejected, decode_body
from audience_dagster.collector.payloads import derived_message_id, segment_batch, webhook_events

RECEIVED = "2026-03-01T12:00:00.000Z"


def lines(body: dict | list, call: str = "batch") -> list[object]:
    batch = segment_batch(orjson.dumps(body), call, RECEIVED)
    assert batch.lines.endswith(b"\n") and batch.lines.count(b"\n") == batch.messages
    return [orjson.loads(line) for line in batch.lines.splitlines()]


def test_a_batch_shares_sent_at_context_and_integrations_and_gets_received_at() -> None:
    [own, plain] = lines(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "A",
                    "userId": "u",
                    "messageId": "m1",
                    "timestamp": "2026-03-01T11:59:00Z",
                    "sentAt": "2026-03-01T11:59:30Z",
                    "context": {"locale": "fr-FR"},
                    "receivedAt": "1999-01-01T00:00:00Z",
                    "writeKey": "aw_secret",
                },
                {"type": "page", "anonymousId": "a", "messageId": "m2", "timestamp": "2026-03-01T11:58:00Z"},
            ],
            "sentAt": "2026-03-01T11:59:59Z",
            "context": {"library": {"name": "analytics-python"}, "locale": "en-GB"},
            "integrations": {"All": True},
            "writeKey": "aw_secret",
        }
    )
    assert own["sentAt"] == "2026-03-01T11:59:30Z"  # the message's own sentAt wins
    assert own["context"] == {"library": {"name": "analytics-python"}, "locale": "fr-FR"}
    assert own["receivedAt"] == RECEIVED  # the server's clock, whatever the client said
    assert "writeKey" not in own and "writeKey" not in plain
    assert plain["sentAt"] == "2026-03-01T11:59:59Z"
    assert plain["integrations"] == {"All": True}
    assert plain["context"]["locale"] == "en-GB"


def test_single_calls_take_their_type_from_the_endpoint() -> None:
    [message] = lines({"event": "Clicked", "userId": "u", "messageId": "m", "timestamp": "2026-03-01T11:00:00Z"}, "t")
    assert message["type"] == "track"
    [message] = lines({"type": "track", "userId": "u", "messageId": "m", "timestamp": "x"}, "identify")
    assert message["type"] == "identify"


def test_missing_message_id_and_timestamp_are_filled_as_segment_does() -> None:
    timed = {"type": "track", "event": "E", "userId": "u", "timestamp": "2026-03-01T11:00:00Z"}
    [first] = lines({"batch": [dict(timed)], "sentAt": "2026-03-01T11:00:05Z"})
    [retry] = lines({"batch": [dict(timed)], "sentAt": "2026-03-01T11:00:09Z"})
    assert first["messageId"] == retry["messageId"]  # a retried call dedups (sentAt is not hashed)
    assert first["messageId"].startswith("api-")
    # no timestamp at all: the event happened when sent (device clock), so ingest's skew
    # correction receivedAt - (sentAt - originalTimestamp) gives the receipt time
    [untimed] = lines({"batch": [{"type": "track", "event": "E", "userId": "u"}], "sentAt": "2026-03-01T11:00:05Z"})
    assert untimed["originalTimestamp"] == "2026-03-01T11:00:05Z"
    [alone] = lines({"event": "E", "userId": "u"}, "track")
    assert alone["originalTimestamp"] == RECEIVED
    # two identical untimed calls at different times are two events
    other = derived_message_id({"type": "track", "event": "E", "userId": "u"}, "2026-03-01T12:00:01.000Z")
    assert other != alone["messageId"]


def test_messages_ingest_must_judge_are_kept_for_it() -> None:
    # no ids, no event name, not even an object: quarantined by ingest with a reason, batch 200
    kept = lines({"batch": [{"type": "track", "messageId": "m"}, 7, "text", None, {"type": "nonsense"}]})
    assert kept[1:4] == [7, "text", None]
    assert kept[0]["receivedAt"] == RECEIVED


@pytest.mark.parametrize(
    ("body", "call", "code"),
    [
        (b"{not json", "batch", "invalid_json"),
        (b"\xff\xfe", "batch", "invalid_json"),
        (b"[1, 2]", "batch", "invalid_body"),
        (b'{"batch": {"type": "track"}}', "batch", "invalid_body"),
        (b'{"batch": "x"}', "b", "invalid_body"),
        (b'"just a string"', "track", "invalid_body"),
    ],
)
def test_bad_requests_are_400(body: bytes, call: str, code: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        segment_batch(body, call, RECEIVED)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_segment_size_limits() -> None:
    big = {"type": "track", "event": "E", "userId": "u", "messageId": "m", "properties": {"x": "a" * MAX_MESSAGE_BYTES}}
    with pytest.raises(RequestRejected, match="message 1 of the batch"):
        segment_batch(orjson.dumps({"batch": [{"type": "page", "userId": "u"}, big]}), "batch", RECEIVED)
    with pytest.raises(RequestRejected, match="over the limit of 32 KB"):
        segment_batch(orjson.dumps(big), "track", RECEIVED)
    small = {"type": "track", "event": "E", "userId": "u", "properties": {"x": "a" * 20_000}}
    assert segment_batch(orjson.dumps({"batch": [small] * 24}), "batch", RECEIVED).messages == 24  # 480 KB: fine
    with pytest.raises(RequestRejected, match="over the limit of 500 KB") as caught:
        segment_batch(orjson.dumps({"batch": [small] * 26}), "batch", RECEIVED)
    assert caught.value.status == 400


def test_gzip_bodies_and_bombs() -> None:
    body = orjson.dumps({"batch": [{"type": "page", "userId": "u"}]})
    assert decode_body(gzip.compress(body), "gzip", MAX_BATCH_BYTES) == body
    assert decode_body(body, None, MAX_BATCH_BYTES) == body
    bomb = gzip.compress(b"{" + b" " * (50 * MAX_BATCH_BYTES) + b"}")
    assert len(bomb) < 100_000
    with pytest.raises(RequestRejected, match="decompressed body"):
        decode_body(bomb, "gzip", MAX_BATCH_BYTES)
    with pytest.raises(RequestRejected, match="not valid gzip"):
        decode_body(b"plain text", "gzip", MAX_BATCH_BYTES)
    with pytest.raises(RequestRejected, match="truncated"):
        decode_body(gzip.compress(body)[:-12], "gzip", MAX_BATCH_BYTES)
    with pytest.raises(RequestRejected, match="Content-Encoding"):
        decode_body(body, "br", MAX_BATCH_BYTES)


def test_webhook_bodies() -> None:
    events = webhook_events(b'[{"sg_event_id": "e1"}, {"sg_event_id": "e2"}, 3]', array=True)
    assert events.messages == 3 and events.lines.splitlines()[2] == b"3"
    order = webhook_events(b'{\n  "id": 1,\n  "total_price": "1.00"\n}', array=False)
    assert order.lines == b'{"id":1,"total_price":"1.00"}\n'  # one line, whatever the formatting
    with pytest.raises(RequestRejected):
        webhook_events(b'{"sg_event_id": "e1"}', array=True)
    with pytest.raises(RequestRejected):
        webhook_events(b"[]", array=False)
