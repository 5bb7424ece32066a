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


def _seg(kind: str = "track", **fields: object) -> str:
    message: dict[str, object] = {"type": kind, "messageId": "c-1", "anonymousId": "a-1", "timestamp": WHEN}
    if kind == "track":
        message["event"] = "Viewed"
    message.update(fields)
    return json.dumps({k: v for k, v in message.items() if v is not None})


def _sg(**fields: object) -> str:
    event = {"sg_event_id": "e-1", "event": "open", "email": "a@b.org", "timestamp": 1772359200, **fields}
    return json.dumps({k: v for k, v in event.items() if v is not None})


def _order(**fields: object) -> str:
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


def _social(**fields: object) -> str:
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


def segment_guarantees() -> list[Guarantee]:
    out: list[Guarantee] = []
    for model in SEGMENT_MODELS:
        stg, kind = f"stg_segment__{model}", CALL[model]
        extra: dict[str, object] = {"groupId": "g-1"} if kind == "group" else _ALIAS if kind == "alias" else {}
        extra["messageId"] = f"c-{model}"
        q = dict(by="quarantine", source="segment")
        out += [
            Guarantee(
                f"{stg}:expression_is_true(anonymous_id is not null or user_id is not null)",
                how=("anonymousId or userId required (non-blank string or number)"),
                example=_seg(kind, anonymousId=None, **{**extra, "userId": None}),
                reason="userId" if kind == "alias" else "anonymousId or userId",
                **q,
            ),
            Guarantee(
                f"{stg}.message_id:not_null",
                how="messageId required, a non-blank string",
                example=_seg(kind, **{**extra, "messageId": " "}),
                reason="missing required field: messageId",
                **q,
            ),
            Guarantee(
                f"{stg}.message_id:unique",
                by="dedup",
                source="segment",
                how="raw.segment_messages primary key (message_id): a re-delivered message adds nothing",
                example=_seg(kind, **extra),
            ),
            Guarantee(
                f"{stg}.occurred_at:not_null",
                how=(
                    "timestamp (or originalTimestamp) required, ISO 8601, 1970-2199, also after clock-skew correction"
                ),
                example=_seg(kind, timestamp="2026-03-01 allballs", **extra),
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
    return out + [
        Guarantee(
            "stg_segment__tracks.event_name:not_null",
            by="quarantine",
            source="segment",
            how="a track call needs a non-blank event name (at most 256 bytes)",
            example=_seg("track", event="  "),
            reason="missing required field: event",
        ),
        Guarantee(
            "stg_segment__aliases.previous_id:not_null",
            by="quarantine",
            source="segment",
            how="an alias call needs previousId",
            example=_seg("alias", userId="u-1"),
            reason="missing required field: previousId",
        ),
        Guarantee(
            "stg_segment__aliases.user_id:not_null",
            by="quarantine",
            source="segment",
            how="an alias call needs userId",
            example=_seg("alias", previousId="p-1"),
            reason="missing required field: userId",
        ),
        Guarantee(
            "stg_segment__groups.group_id:not_null",
            by="quarantine",
            source="segment",
            how="a group call needs groupId",
            example=_seg("group"),
            reason="missing required field: groupId",
        ),
    ]


def _money(model: str, column: str, field: str, *, required: bool) -> list[Guarantee]:
    q = dict(by="quarantine", source="shopify")
    how = f"{field}: a decimal from 0 to 999999999999.99 (numeric(14,2) after rounding)"
    out = [
        Guarantee(
            f"{model}.{column}:accepted_range",
            how=how,
            example=_order(**{field: "-5.00"}),
            reason=f"{field} out of range",
            **q,
        )
    ]
    if required:
        out.append(
            Guarantee(
                f"{model}.{column}:not_null",
                how=f"{field} required; " + how,
                example=_order(**{field: "99999999999999.99"}),
                reason=f"{field} out of range",
                **q,
            )
        )
    return out


def _item(**fields: object) -> str:
    return _order(line_items=[{"id": 1, "quantity": 1, "price": "1.00", **fields}])


def shopify_guarantees() -> list[Guarantee]:
    orders, items = "stg_shopify__orders", "stg_shopify__order_line_items"
    q = dict(by="quarantine", source="shopify")
    return [
        Guarantee(
            f"{orders}.order_id:unique",
            by="dedup",
            source="shopify",
            how="raw.shopify_orders primary key (order_id)",
            example=_order(),
        ),
        Guarantee(
            f"{orders}.order_id:not_null",
            how="id required, a positive integer that fits bigint",
            example=_order(id="abc"),
            reason="id must be an integer",
            **q,
        ),
        Guarantee(
            f"{orders}.created_at:not_null",
            how="created_at required, ISO 8601, 1970 to now",
            example=_order(created_at="0001-01-01T00:00:00Z"),
            reason="created_at out of range",
            **q,
        ),
        Guarantee(
            f"{orders}.currency:not_null",
            how="currency required, a 3-letter code",
            example=_order(currency=None),
            reason="missing required field: currency",
            **q,
        ),
        Guarantee(f"{orders}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
        Guarantee(f"{orders}.discount_codes:not_null", by="staging", how="an array of the codes, empty when none"),
        *_money(orders, "total_price", "total_price", required=True),
        *_money(orders, "subtotal_price", "subtotal_price", required=False),
        *_money(orders, "total_discounts", "total_discounts", required=False),
        *_money(orders, "total_tax", "total_tax", required=False),
        Guarantee(
            f"{orders}:expression_is_true(customer_id is not null or (customer_email is null and "
            "customer_first_name is null))",
            how="customer.id, when given, a positive integer; required when the customer has an email or a name",
            example=_order(customer={"id": "guest", "email": "g@b.org"}),
            reason="customer.id",
            **q,
        ),
        Guarantee(
            f"{items}.order_line_item_id:not_null",
            how="every line item needs a positive integer id",
            example=_order(line_items=[{"quantity": 1, "price": "1.00"}]),
            reason="line item id",
            **q,
        ),
        Guarantee(
            f"{items}.order_line_item_id:unique",
            how=("line item ids unique within the order, and not held by another order (raw.shopify_line_items)"),
            example=_order(line_items=[{"id": 5, "quantity": 1, "price": "1"}, {"id": 5, "quantity": 2, "price": "1"}]),
            reason="duplicate line item id",
            **q,
        ),
        Guarantee(
            f"{items}.quantity:not_null",
            how="quantity required, an integer from 1 to 2147483647",
            example=_item(quantity="two"),
            reason="quantity",
            **q,
        ),
        Guarantee(
            f"{items}.quantity:accepted_range",
            how="quantity an integer from 1 to 2147483647",
            example=_item(quantity=0),
            reason="quantity",
            **q,
        ),
        Guarantee(
            f"{items}.price:not_null",
            how="price required, a decimal numeric(14,2) can hold",
            example=_item(price=None),
            reason="line item price",
            **q,
        ),
        Guarantee(
            f"{items}.price:accepted_range",
            how="price from 0",
            example=_item(price="-1"),
            reason="line item price",
            **q,
        ),
        Guarantee(f"{items}.created_at:not_null", by="raw", how="the order's created_at (required)"),
        Guarantee(f"{items}.line_number:not_null", by="staging", how="the element's position (WITH ORDINALITY)"),
        Guarantee(f"{items}.order_id:not_null", by="staging", how="the order's primary key"),
        Guarantee(f"{items}.order_id:relationships", by="staging", how="both models read the same raw rows"),
        Guarantee(
            f"{items}:unique_combination_of_columns(order_id,line_number)",
            by="staging",
            how="one row per element position of one order",
        ),
    ]


def other_guarantees() -> list[Guarantee]:
    sg, so, st = "stg_sendgrid__events", "stg_social__engagements", "stg_store__historical_orders"
    return [
        Guarantee(
            f"{sg}.email_event_id:unique",
            by="dedup",
            source="sendgrid",
            how="raw.sendgrid_events primary key (sg_event_id)",
            example=_sg(),
        ),
        Guarantee(
            f"{sg}.email_event_id:not_null",
            by="quarantine",
            source="sendgrid",
            how="sg_event_id required, a non-blank string",
            example=_sg(sg_event_id={"a": 1}),
            reason="sg_event_id",
        ),
        Guarantee(
            f"{sg}.email:not_null",
            by="quarantine",
            source="sendgrid",
            how="email required, a string",
            example=_sg(email=None),
            reason="missing required field: email",
        ),
        Guarantee(
            f"{sg}.event_type:not_null",
            by="quarantine",
            source="sendgrid",
            how="event required, a non-blank string",
            example=_sg(event=""),
            reason="missing required field: event",
        ),
        Guarantee(
            f"{sg}.occurred_at:not_null",
            by="quarantine",
            source="sendgrid",
            how="timestamp required, UNIX seconds from 1970 to now",
            example=_sg(timestamp="1e999999"),
            reason="timestamp must be UNIX seconds",
        ),
        Guarantee(f"{sg}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
        Guarantee(f"{sg}.categories:not_null", by="staging", how="an array, empty when absent"),
        Guarantee(
            f"{so}.social_event_id:unique",
            by="dedup",
            source="social",
            how="raw.social_events primary key (event_id)",
            example=_social(),
        ),
        Guarantee(
            f"{so}.social_event_id:not_null",
            by="quarantine",
            source="social",
            how="event_id required, a non-blank string or number",
            example=_social(event_id=""),
            reason="missing required field: event_id",
        ),
        Guarantee(
            f"{so}.platform:not_null",
            by="quarantine",
            source="social",
            how="platform required, a string",
            example=_social(platform=None),
            reason="missing required field: platform",
        ),
        Guarantee(
            f"{so}.action:not_null",
            by="quarantine",
            source="social",
            how="action required, a string",
            example=_social(action=[]),
            reason="action",
        ),
        Guarantee(
            f"{so}.handle:not_null",
            by="quarantine",
            source="social",
            how="handle required, a string",
            example=_social(handle=None),
            reason="missing required field: handle",
        ),
        Guarantee(
            f"{so}.occurred_at:not_null",
            by="quarantine",
            source="social",
            how="occurred_at required, ISO 8601, 1970 to now",
            example=_social(occurred_at="4713-01-01 BC"),
            reason="occurred_at out of range",
        ),
        Guarantee(f"{so}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
        Guarantee(
            f"{st}.order_key:unique",
            by="dedup",
            source="historical_orders",
            how="raw.historical_orders primary key (the order id, or a hash of the row and its occurrence)",
            example="h-1,c-1,a@b.org,2025-06-01,12.50,USD",
        ),
        Guarantee(f"{st}.order_key:not_null", by="staging", how="the order id or the row hash, never null"),
        Guarantee(
            f"{st}.amount:not_null",
            by="quarantine",
            source="historical_orders",
            how="amount required, a decimal from 0 that numeric(14,2) holds after rounding",
            example="h-2,c-1,a@b.org,2025-06-01,999999999999.999,USD",
            reason="amount out of range",
        ),
        Guarantee(
            f"{st}.ordered_at:not_null",
            by="quarantine",
            source="historical_orders",
            how="order_date required, ISO 8601 or YYYYMMDD, 1970 to now",
            example="h-3,c-1,a@b.org,2099-01-01,1.00,USD",
            reason="order_date in the future",
        ),
        Guarantee(f"{st}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
    ]
