"""Request bodies → spool lines (one JSON message per line, as ingest reads landing files). Pure.

The collector checks only what makes a *request* unacceptable (size, JSON, shape); whether a
*message* is acceptable (ids, event name, timestamps, types) is ingest's decision, made the same
way for every landing file: a bad message is quarantined with its reason and the batch is still
answered 200 — Segment's behaviour. What the collector adds to each message is what Segment's
servers add on arrival:

* ``receivedAt``: the server's clock, always (a client cannot claim when it was received);
* ``sentAt``, ``context``, ``integrations`` of a batch: copied into each message (the message's
  own values win), so ingest's clock-skew correction ``receivedAt − (sentAt − timestamp)`` works
  for SDKs that send ``sentAt`` once per batch (analytics-python, analytics-node, analytics.js);
* ``type`` from the endpoint for single calls (``/v1/track``, ``/v1/t`` …);
* ``messageId`` when missing: a hash of the message (so a retried call dedups); a message
  without a timestamp also hashes its receipt time (so two identical calls are two events);
* ``originalTimestamp`` when the message has no timestamp at all: the batch's ``sentAt``, else
  the receipt time, so that ingest's correction yields the receipt time, as at Segment;
* ``writeKey`` is removed from every message (a credential is not data).

Integers beyond 64 bits are read as doubles (as JavaScript SDKs send them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from audience_dagster.collector.limits import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, RequestRejected, too_large

# endpoint (after /v1/) -> message type; None for batches
SEGMENT_CALLS: dict[str, str | None] = {
    "track": "track",
    "t": "track",
    "page": "page",
    "p": "page",
    "screen": "screen",
    "s": "screen",
    "identify": "identify",
    "i": "identify",
    "alias": "alias",
    "a": "alias",
    "group": "group",
    "g": "group",
    "batch": None,
    "b": None,
    "import": None,
}


@dataclass(frozen=True)
class SpoolBatch:
    """What one accepted request writes: newline-terminated JSON lines."""

    lines: bytes
    messages: int
    write_key: str | None = None  # the body's writeKey (analytics.js sends it there)


def body_limit(call: str) -> int:
    return MAX_BATCH_BYTES if SEGMENT_CALLS[call] is None else MAX_MESSAGE_BYTES


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRejected(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc


def segment_batch(body: bytes, call: str, received_at: str) -> SpoolBatch:
    """The spool lines of a Segment request to ``/v1/<call>`` received at ``received_at`` (ISO 8601).

    Raises :class:`RequestRejected` (400) for a body over the limit, invalid JSON, a body that is
    not an object, a batch that is not an array, or a message over 32 KB.
    """
    message_type = SEGMENT_CALLS[call]
    if len(body) > body_limit(call):
        raise too_large("the message" if message_type else "the batch", len(body), body_limit(call))
    root = parse_json(body)
    if not isinstance(root, dict):
        raise RequestRejected(400, "invalid_body", "the body must be a JSON object")
    write_key = root.get("writeKey") if isinstance(root.get("writeKey"), str) else None
    if message_type is not None:
        messages: list[Any] = [root]
        shared: dict[str, Any] = {}
    else:
        messages = root.get("batch")
        if not isinstance(messages, list):
            raise RequestRejected(400, "invalid_body", 'a batch must be {"batch": [message, …]}')
        shared = {k: root[k] for k in ("sentAt", "context", "integrations") if k in root}
    check_sizes = len(body) > MAX_MESSAGE_BYTES  # a smaller body cannot hold a message over the limit
    lines = []
    for position, message in enumerate(messages):
        if not isinstance(message, dict):
            lines.append(orjson.dumps(message))  # ingest quarantines it ("not a JSON object")
            continue
        if check_sizes and len(encoded := orjson.dumps(message)) > MAX_MESSAGE_BYTES:
            raise too_large(f"message {position} of the batch", len(encoded), MAX_MESSAGE_BYTES)
        lines.append(orjson.dumps(stamp_message(message, message_type, shared, received_at)))
    return SpoolBatch(b"".join(line + b"\n" for line in lines), len(lines), write_key)


def stamp_message(message: dict[str, Any], message_type: str | None, shared: dict[str, Any], received_at: str) -> dict:
    """The message as stored: what Segment's servers add on arrival (see the module docstring)."""
    message.pop("writeKey", None)
    if message_type is not None:
        message["type"] = message_type
    for name in ("context", "integrations"):
        common = shared.get(name)
        own = message.get(name)
        if isinstance(common, dict) and (own is None or isinstance(own, dict)):
            message[name] = {**common, **(own or {})}
    if "sentAt" not in message and "sentAt" in shared:
        message["sentAt"] = shared["sentAt"]
    has_time = bool(message.get("timestamp") or message.get("originalTimestamp"))
    if not message.get("messageId"):
        message["messageId"] = derived_message_id(message, None if has_time else received_at)
    if not has_time:
        message["originalTimestamp"] = message.get("sentAt") or received_at
    message["receivedAt"] = received_at
    return message


def derived_message_id(message: dict[str, Any], received_at: str | None) -> str:
    """A messageId for a message that came without one: the sha256 of its content (without
    ``sentAt``, which an SDK re-stamps on every retry), plus the receipt time if given."""
    content = {k: v for k, v in message.items() if k not in ("sentAt", "receivedAt", "messageId")}
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS))
    if received_at:
        digest.update(received_at.encode())
    return "api-" + digest.hexdigest()[:32]


def webhook_events(body: bytes, *, array: bool) -> SpoolBatch:
    """SendGrid posts a JSON array of events (``array``), Shopify one order object: one line each.
    Elements that are not objects are kept as lines for ingest to quarantine."""
    root = parse_json(body)
    if array:
        if not isinstance(root, list):
            raise RequestRejected(400, "invalid_body", "SendGrid's Event Webhook posts a JSON array of events")
        items = root
    else:
        if not isinstance(root, dict):
            raise RequestRejected(400, "invalid_body", "a Shopify order webhook posts one JSON object")
        items = [root]
    return SpoolBatch(b"".join(orjson.dumps(item) + b"\n" for item in items), len(items))
