"""The guarantees of the ingest ↔ staging contract, source by source (pure data; see
:mod:`.contract` for what each kind of guarantee means and how it is tested)."""

from __future__ import annotations

import json
from dataclasses import dataclass

WHEN = "2026-03-01T10:00:00Z"


@dataclass(frozen=True)
class Guarantee:
    """How one error-severity dbt test is guaranteed (``by``: quarantine, dedup, raw, staging,
    ledger); ``example`` is a landing-file line of ``source`` that would violate the test and
    ``reason`` a fragment of the quarantine reason it gets."""

    test: str
    by: str
    how: str
    source: str | None = None
    example: str | None = None  # one landing-file line (the CSV header is added by the test)
    reason: str | None = None


def segment_line(kind: str = "track", **fields: object) -> str:
    message: dict[str, object] = {"type": kind, "messageId": "c-1", "anonymousId": "a-1", "timestamp": WHEN}
    if kind == "track":
        message["event"] = "Viewed"
    message.update(fields)
    return json.dumps({k: v for k, v in message.items() if v is not None})


def sendgrid_line(**fields: object) -> str:
    event = {"sg_event_id": "e-1", "event": "open", "email": "a@b.org", "timestamp": 1772359200, **fields}
    return json.dumps({k: v for k, v in event.items() if v is not None})


def order_line(**fields: object) -> str:
    record: dict[str, object] = {
        "id": 9000000000001,
        "created_at": WHEN,
        "currency": "EUR",
        "total_price": "10.00",
        "email": "a@b.org",
        "line_items": [{"id": 1, "quantity": 1, "price": "10.00"}],
    }
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def social_line(**fields: object) -> str:
    event = {"event_id": "s-1", "platform": "x", "action": "like", "handle": "@a", "occurred_at": WHEN, **fields}
    return json.dumps({k: v for k, v in event.items() if v is not None})


SEGMENT_MODELS = ("tracks", "pages", "screens", "identifies", "aliases", "groups")
CALL = {
    "tracks": "track",
    "pages": "page",
    "screens": "screen",
    "identifies": "identify",
    "aliases": "alias",
    "groups": "group",
}
_ALIAS = {"userId": "u-1", "previousId": "p-1"}


def segment_call_guarantees(model: str) -> list[Guarantee]:
    """The guarantees every Segment call model shares (ids, message id, times, payload)."""
    stg, kind = f"stg_segment__{model}", CALL[model]
    extra: dict[str, object] = {"groupId": "g-1"} if kind == "group" else _ALIAS if kind == "alias" else {}
    extra["messageId"] = f"c-{model}"
    q = dict(by="quarantine", source="segment")
    out = [
        Guarantee(
            f"{stg}:expression_is_true(anonymous_id is not null or user_id is not null)",
            how=("anonymousId or userId required (non-blank string or number)"),
            example=segment_line(kind, anonymousId=None, **{**extra, "userId": None}),
            reason="userId" if kind == "alias" else "anonymousId or userId",
            **q,
        ),
        Guarantee(
            f"{stg}.message_id:not_null",
            how="messageId required, a non-blank string",
            example=segment_line(kind, **{**extra, "messageId": " "}),
            reason="missing required field: messageId",
            **q,
        ),
        Guarantee(
            f"{stg}.message_id:unique",
            by="dedup",
            source="segment",
            how="raw.segment_messages primary key (message_id): a re-delivered message adds nothing",
            example=segment_line(kind, **extra),
        ),
        Guarantee(
            f"{stg}.occurred_at:not_null",
            how=("timestamp (or originalTimestamp) required, ISO 8601, 1970-2199, also after clock-skew correction"),
            example=segment_line(kind, timestamp="2026-03-01 allballs", **extra),
            reason="unparseable timestamp",
            **q,
        ),
        Guarantee(f"{stg}.received_at:not_null", by="raw", how="receivedAt, or the load time when absent"),
        Guarantee(f"{stg}.timestamp_clamped:not_null", by="raw", how="computed by ingestion for every message"),
        Guarantee(f"{stg}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
    ]
    if kind in ("track", "page", "screen"):
        out.append(
            Guarantee(
                f"{stg}.properties:not_null",
                by="staging",
                how="an empty object when absent; a non-object is quarantined first",
            )
        )
    if kind in ("identify", "group"):
        out.append(
            Guarantee(
                f"{stg}.traits:not_null",
                by="staging",
                how="an empty object when absent; a non-object is quarantined first",
            )
        )
    return out


def segment_guarantees() -> list[Guarantee]:
    out = [g for model in SEGMENT_MODELS for g in segment_call_guarantees(model)]
    return out + [
        Guarantee(
            "stg_segment__tracks.event_name:not_null",
            by="quarantine",
            source="segment",
            how="a track call needs a non-blank event name (at most 256 bytes)",
            example=segment_line("track", event="  "),
            reason="missing required field: event",
        ),
        Guarantee(
            "stg_segment__aliases.previous_id:not_null",
            by="quarantine",
            source="segment",
            how="an alias call needs previousId",
            example=segment_line("alias", userId="u-1"),
            reason="missing required field: previousId",
        ),
        Guarantee(
            "stg_segment__aliases.user_id:not_null",
            by="quarantine",
            source="segment",
            how="an alias call needs userId",
            example=segment_line("alias", previousId="p-1"),
            reason="missing required field: userId",
        ),
        Guarantee(
            "stg_segment__groups.group_id:not_null",
            by="quarantine",
            source="segment",
            how="a group call needs groupId",
            example=segment_line("group"),
            reason="missing required field: groupId",
        ),
    ]
