"""The kinds of hostile record, per source, and what ingestion must do with each (pure).

Every kind is a function ``(ids) -> (line, expect, reason)``: the raw line (bytes, no line
ending), the expected outcome — ``landed``, ``quarantined``, ``duplicate`` (its key landed on an
earlier line), ``blank`` or ``not_stored`` (do-not-track) — and, for a quarantined record, a
fragment its quarantine reason must contain. Valid-but-odd records (unicode, numbers as ids,
deep but bounded nesting, corrected clock skew) are kinds too: ingestion must not lose them.

Found by hand (issue 11): lone surrogates, nesting deep enough to overflow the parser, huge and
tiny exponents, skew correction overflowing, money beyond numeric(14,2), a CSV field over the
csv module's limit, NUL bytes, calls without their id, negative or non-numeric Shopify money and
ids, malformed line items, blank and non-scalar dedup keys, BC and leap-second timestamps,
unterminated CSV quotes, invalid UTF-8, future CSV dates.
"""

from __future__ import annotations

import json
from collections.abc import Callable

Outcome = tuple[bytes, str, str | None]
Kind = Callable[["Ids"], Outcome]

WHEN = "2026-03-01T10:00:00.000Z"


class Ids:
    """Fresh, deterministic ids for one corpus (``hostile-<seed>-<n>``, numbers from a base)."""

    def __init__(self, seed: int) -> None:
        self.seed, self.n = seed, 0
        self.last_key: dict[str, str] = {}

    def next(self, prefix: str = "h") -> str:
        self.n += 1
        return f"{prefix}-{self.seed}-{self.n}"

    def number(self, base: int) -> int:
        self.n += 1
        return base + self.seed * 100_000 + self.n


def dumps(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def landed(record: object) -> Outcome:
    return dumps(record), "landed", None


def bad(record: object | bytes, reason: str) -> Outcome:
    return (record if isinstance(record, bytes) else dumps(record)), "quarantined", reason


# --- Segment -------------------------------------------------------------------------------


def seg(ids: Ids, kind: str = "track", **fields: object) -> dict:
    message = {
        "type": kind,
        "messageId": ids.next("msg"),
        "anonymousId": ids.next("anon"),
        "timestamp": WHEN,
        "sentAt": WHEN,
        "receivedAt": WHEN,
        "context": {"library": {"name": "analytics.js"}, "userAgent": "Mozilla/5.0 (Macintosh)"},
    }
    if kind == "track":
        message.update(event="Product Viewed", properties={"product_id": "p1"})
    message.update(fields)
    return {k: v for k, v in message.items() if v is not None}


def _seg_text(ids: Ids, fragment: str, reason: str) -> Outcome:
    """A Segment message whose properties hold raw JSON text (escapes, numbers)."""
    text = json.dumps(seg(ids)).replace('"product_id": "p1"', f'"x": {fragment}')
    return text.encode(), "quarantined", reason


def _seg_dup(ids: Ids) -> Outcome:
    message = seg(ids)
    ids.last_key["segment"] = message["messageId"]
    return landed(message)


def _seg_again(ids: Ids) -> Outcome:
    return dumps(seg(ids, messageId=ids.last_key["segment"], event="Again")), "duplicate", None


SEGMENT_KINDS: dict[str, Kind] = {
    "track": lambda ids: landed(seg(ids)),
    "page": lambda ids: landed(seg(ids, "page", name="Pricing", properties={"path": "/pricing"})),
    "screen": lambda ids: landed(seg(ids, "screen", name="Home", context={"app": {"name": "Shop"}})),
    "identify_unicode": lambda ids: landed(
        seg(
            ids,
            "identify",
            userId=ids.next("u"),
            traits={"email": f"{ids.next('zoë')}@exämple.com", "firstName": "Zoë 🚀", "lastName": "Ñúñez"},
        )
    ),
    "alias": lambda ids: landed(seg(ids, "alias", userId=ids.next("u"), previousId=ids.next("anon"))),
    "group": lambda ids: landed(seg(ids, "group", groupId=ids.next("g"), traits={"name": "Acme"})),
    "numeric_user_id": lambda ids: landed(seg(ids, userId=ids.number(10_000_000))),
    "escaped_unicode": lambda ids: (
        json.dumps(seg(ids, properties={"title": "caf\u00e9 \U0001f600"}), ensure_ascii=True).encode(),
        "landed",
        None,
    ),
    "nested_200_deep": lambda ids: landed(seg(ids, properties={"deep": json.loads("[" * 200 + "]" * 200)})),
    "big_properties_100k": lambda ids: landed(seg(ids, properties={"blob": "x" * 100_000})),
    "skew_corrected_old_clock": lambda ids: landed(
        seg(ids, timestamp="1971-03-01T10:00:00Z", sentAt="1971-03-01T10:00:01Z", receivedAt=WHEN)
    ),
    "far_future_clamped": lambda ids: landed(seg(ids, timestamp="2099-01-01T00:00:00Z", sentAt=None)),
    "no_received_at": lambda ids: landed(seg(ids, receivedAt=None)),
    "zone_less_timestamp": lambda ids: landed(seg(ids, timestamp="2026-03-01 10:00:00", sentAt=None)),
    "duplicate_first": _seg_dup,
    "duplicate_again": _seg_again,
    "blank_line": lambda ids: (b"   ", "blank", None),
    "do_not_track": lambda ids: (dumps(seg(ids, context={"doNotTrack": True})), "not_stored", None),
    # what issue 11 found
    "lone_high_surrogate": lambda ids: _seg_text(ids, '"\\ud800"', "invalid JSON"),
    "lone_low_surrogate": lambda ids: _seg_text(ids, '"\\udc00 x"', "invalid JSON"),
    "escaped_nul": lambda ids: _seg_text(ids, '"a\\u0000b"', "invalid JSON"),
    "huge_exponent": lambda ids: _seg_text(ids, "1e999999", "invalid JSON"),
    "nested_50k_deep": lambda ids: _seg_text(ids, "[" * 50_000 + "]" * 50_000, "nested deeper than"),
    "skew_overflow": lambda ids: bad(
        seg(ids, timestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T00:00:00Z"), "sentAt out of range"
    ),
    "year_one": lambda ids: bad(seg(ids, timestamp="0001-01-01T00:00:00Z", sentAt=None), "timestamp out of range"),
    "bc_timestamp": lambda ids: bad(seg(ids, timestamp="4713-01-01 BC", sentAt=None), "timestamp out of range"),
    "allballs": lambda ids: bad(seg(ids, timestamp="2026-03-01 allballs"), "unparseable timestamp"),
    "leap_second": lambda ids: bad(seg(ids, timestamp="2026-03-01T12:00:60Z"), "unparseable timestamp"),
    "group_without_group_id": lambda ids: bad(seg(ids, "group", traits={"name": "x"}), "groupId"),
    "alias_without_user_id": lambda ids: bad(seg(ids, "alias", previousId="p"), "missing required field: userId"),
    "blank_message_id": lambda ids: bad(seg(ids, messageId=" "), "missing required field: messageId"),
    "object_message_id": lambda ids: bad(seg(ids, messageId={"id": 1}), "wrong type: messageId"),
    "long_message_id": lambda ids: bad(seg(ids, messageId="m" * 300), "messageId too long"),
    "object_event": lambda ids: bad(seg(ids, event={"name": "x"}), "wrong type: event"),
    "blank_event": lambda ids: bad(seg(ids, event="  "), "missing required field: event"),
    "long_event": lambda ids: bad(seg(ids, event="E" * 10_000), "event too long"),
    "array_anonymous_id": lambda ids: bad(seg(ids, anonymousId=["a"]), "wrong type: anonymousId"),
    "boolean_user_id": lambda ids: bad(seg(ids, userId=True), "wrong type: userId"),
    "string_properties": lambda ids: bad(seg(ids, properties="cheap"), "properties must be an object"),
    "object_email_trait": lambda ids: bad(seg(ids, "identify", traits={"email": {"a": 1}}), "traits.email"),
    "long_device_id": lambda ids: bad(seg(ids, context={"device": {"id": "d" * 500}}), "context.device.id too long"),
    "not_an_object": lambda ids: bad(dumps([ids.next("array"), 2]), "not a JSON object"),
    "json_string": lambda ids: bad(dumps(ids.next("just text")), "not a JSON object"),
    "truncated": lambda ids: bad(dumps(seg(ids))[:-12], "invalid JSON"),
    "invalid_utf8": lambda ids: bad(dumps(seg(ids)).replace(b"p1", b"p\xff1"), "invalid UTF-8"),
    "raw_nul_byte": lambda ids: bad(dumps(seg(ids)).replace(b"p1", b"p\x001"), "NUL byte"),
    "record_over_1mib": lambda ids: bad(dumps(seg(ids, properties={"blob": "y" * (1 << 20)})), "record too large"),
    "unknown_type": lambda ids: bad(seg(ids, "teleport"), "unknown message type"),
    "no_timestamp": lambda ids: bad(seg(ids, timestamp=None), "missing required field: timestamp"),
    "special_word_now": lambda ids: bad(seg(ids, timestamp="now"), "unparseable timestamp"),
    "locale_date": lambda ids: bad(seg(ids, timestamp="1/2/26"), "unparseable timestamp"),
    "bad_received_at": lambda ids: bad(seg(ids, receivedAt="yesterday"), "unparseable receivedAt"),
    "no_ids": lambda ids: bad(seg(ids, anonymousId=None), "anonymousId or userId"),
}

# --- SendGrid ------------------------------------------------------------------------------


def sg(ids: Ids, **fields: object) -> dict:
    event = {
        "email": f"{ids.next('sg')}@example.org",
        "timestamp": 1772359200,  # 2026-03-01T10:00:00Z
        "event": "open",
        "sg_event_id": ids.next("sge"),
        "sg_message_id": ids.next("sgm") + ".filter",
    }
    event.update(fields)
    return {k: v for k, v in event.items() if v is not None}


def _sg_dup(ids: Ids) -> Outcome:
    event = sg(ids)
    ids.last_key["sendgrid"] = event["sg_event_id"]
    return landed(event)


SENDGRID_KINDS: dict[str, Kind] = {
    "open": lambda ids: landed(sg(ids)),
    "click_with_categories": lambda ids: landed(sg(ids, event="click", url="https://x.example", category="promo")),
    "string_timestamp": lambda ids: landed(sg(ids, timestamp="1772359200")),
    "fractional_timestamp": lambda ids: landed(sg(ids, timestamp=1772359200.5)),
    # 1e-400 is stored by jsonb as 0.000…1 (400 digits): not a plausible number of seconds
    "tiny_exponent_timestamp": lambda ids: (
        json.dumps(sg(ids, timestamp=0)).replace('"timestamp": 0', '"timestamp": 1e-400').encode(),
        "quarantined",
        "timestamp must be UNIX seconds",
    ),
    "numeric_contact_id": lambda ids: landed(sg(ids, contact_id=ids.number(50_000_000))),
    "duplicate_first": _sg_dup,
    "duplicate_again": lambda ids: (dumps(sg(ids, sg_event_id=ids.last_key["sendgrid"])), "duplicate", None),
    "huge_exponent_timestamp": lambda ids: (
        json.dumps(sg(ids, timestamp=0)).replace('"timestamp": 0', '"timestamp": 1e999999').encode(),
        "quarantined",
        "invalid JSON",
    ),
    "huge_exponent_string": lambda ids: bad(sg(ids, timestamp="1e999999"), "timestamp must be UNIX seconds"),
    "object_event_id": lambda ids: bad(sg(ids, sg_event_id={"id": "x"}), "wrong type: sg_event_id"),
    "array_event_id": lambda ids: bad(sg(ids, sg_event_id=["x"]), "wrong type: sg_event_id"),
    "boolean_event_id": lambda ids: bad(sg(ids, sg_event_id=True), "wrong type: sg_event_id"),
    "blank_event_id": lambda ids: bad(sg(ids, sg_event_id="   "), "missing required field: sg_event_id"),
    "object_email": lambda ids: bad(sg(ids, email={"to": "a@b.c"}), "wrong type: email"),
    "long_email": lambda ids: bad(sg(ids, email="e" * 300 + "@x.org"), "email too long"),
    "array_event": lambda ids: bad(sg(ids, event=["open"]), "wrong type: event"),
    "not_a_time": lambda ids: bad(sg(ids, timestamp="notatime"), "timestamp must be UNIX seconds"),
    "future": lambda ids: bad(sg(ids, timestamp=4_102_444_800), "in the future"),
    "no_email": lambda ids: bad(sg(ids, email=None), "missing required field: email"),
}

# --- Shopify -------------------------------------------------------------------------------


def order(ids: Ids, **fields: object) -> dict:
    record = {
        "id": ids.number(9_000_000_000_000),
        "name": "#H1",
        "email": f"{ids.next('buyer')}@example.net",
        "created_at": "2026-03-01T10:00:00-05:00",
        "currency": "EUR",
        "subtotal_price": "80.00",
        "total_discounts": "0.00",
        "total_tax": "7.20",
        "total_price": "87.20",
        "financial_status": "paid",
        "line_items": [{"id": ids.number(9_500_000_000_000), "quantity": 1, "price": "80.00", "title": "Mug"}],
        "customer": {"id": ids.number(9_100_000_000_000), "email": f"{ids.next('c')}@example.net"},
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def _item(ids: Ids, **fields: object) -> dict:
    return {"id": ids.number(9_500_000_000_000), "quantity": 1, "price": "5.00", **fields}


def _order_dup(ids: Ids) -> Outcome:
    record = order(ids)
    ids.last_key["shopify"] = json.dumps(record)
    return landed(record)


def _order_taking_a_line_item(ids: Ids) -> Outcome:
    earlier = json.loads(ids.last_key["shopify"])
    taken = earlier["line_items"][0]["id"]
    return bad(order(ids, line_items=[_item(ids, id=taken)]), "belongs to another order")


SHOPIFY_KINDS: dict[str, Kind] = {
    "order": lambda ids: landed(order(ids)),
    "guest_order": lambda ids: landed(order(ids, customer=None)),
    "many_line_items": lambda ids: landed(order(ids, line_items=[_item(ids) for _ in range(30)])),
    "numeric_total": lambda ids: (
        json.dumps(order(ids)).replace('"total_price": "87.20"', '"total_price": 87.2').encode(),
        "landed",
        None,
    ),
    "blank_tax": lambda ids: landed(order(ids, total_tax="")),
    "string_ids": lambda ids: landed(order(ids, id=str(ids.number(9_000_000_000_000)))),
    "duplicate_first": _order_dup,
    "duplicate_again": lambda ids: (ids.last_key["shopify"].encode(), "duplicate", None),
    "line_item_of_another_order": _order_taking_a_line_item,
    "negative_total": lambda ids: bad(order(ids, total_price="-5.00"), "total_price out of range"),
    "total_1e308": lambda ids: (
        json.dumps(order(ids)).replace('"total_price": "87.20"', '"total_price": 1e308').encode(),
        "quarantined",
        "total_price must be a decimal",
    ),
    "total_beyond_numeric_14_2": lambda ids: bad(order(ids, total_price="99999999999999.99"), "out of range"),
    "total_not_a_number": lambda ids: bad(order(ids, total_price="abc"), "total_price must be a decimal"),
    "negative_tax": lambda ids: bad(order(ids, total_tax="-1.00"), "total_tax out of range"),
    "line_items_not_objects": lambda ids: bad(order(ids, line_items=[1, 2]), "line_items must hold objects"),
    "quantity_not_a_number": lambda ids: bad(order(ids, line_items=[_item(ids, quantity="two")]), "quantity"),
    "quantity_negative": lambda ids: bad(order(ids, line_items=[_item(ids, quantity=-1)]), "quantity"),
    "quantity_fractional": lambda ids: bad(order(ids, line_items=[_item(ids, quantity=2.5)]), "quantity"),
    "price_negative": lambda ids: bad(order(ids, line_items=[_item(ids, price="-1")]), "line item price"),
    "line_item_without_id": lambda ids: bad(order(ids, line_items=[{"quantity": 1, "price": "1"}]), "line item id"),
    "duplicate_line_item_ids": lambda ids: bad(
        order(ids, line_items=[_item(ids, id=77), _item(ids, id=77)]), "duplicate line item id"
    ),
    "guest_customer_id": lambda ids: bad(order(ids, customer={"id": "guest", "email": "g@x.org"}), "customer.id"),
    "negative_id": lambda ids: bad(order(ids, id=-5), "id out of range"),
    "exponent_id": lambda ids: bad(order(ids, id="1e3"), "id must be an integer"),
    "future_order": lambda ids: bad(order(ids, created_at="2099-01-01T00:00:00Z"), "in the future"),
    "year_one_order": lambda ids: bad(order(ids, created_at="0001-01-01T00:00:00Z"), "created_at out of range"),
    "no_currency": lambda ids: bad(order(ids, currency=None), "missing required field: currency"),
    "word_currency": lambda ids: bad(order(ids, currency="dollars"), "currency must be a 3-letter"),
    "object_email": lambda ids: bad(order(ids, email={"a": 1}), "wrong type: email"),
    "line_items_object": lambda ids: bad(order(ids, line_items={"a": 1}), "line_items must be an array"),
    "nobody": lambda ids: bad(order(ids, email=None, customer=None), "order names no customer"),
}

# --- Social --------------------------------------------------------------------------------


def social(ids: Ids, **fields: object) -> dict:
    record = {
        "event_id": ids.next("soc"),
        "platform": "instagram",
        "action": "like",
        "handle": f"@{ids.next('fan')}",
        "occurred_at": WHEN,
        "post_id": "p1",
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


SOCIAL_KINDS: dict[str, Kind] = {
    "like": lambda ids: landed(social(ids)),
    "comment_unicode": lambda ids: landed(social(ids, action="COMMENT", comment_text="très bien 👍")),
    "handle_without_at": lambda ids: landed(social(ids, handle=ids.next("plain"))),
    "numeric_event_id": lambda ids: landed(social(ids, event_id=ids.number(70_000_000))),
    "object_event_id": lambda ids: bad(social(ids, event_id={"x": 1}), "wrong type: event_id"),
    "blank_event_id": lambda ids: bad(social(ids, event_id=""), "missing required field: event_id"),
    "object_platform": lambda ids: bad(social(ids, platform={"name": "x"}), "wrong type: platform"),
    "long_platform": lambda ids: bad(social(ids, platform="p" * 300), "platform too long"),
    "array_handle": lambda ids: bad(social(ids, handle=["@a"]), "wrong type: handle"),
    "only_at_handle": lambda ids: bad(social(ids, handle="@"), "handle"),
    "no_action": lambda ids: bad(social(ids, action=None), "missing required field: action"),
    "bc_time": lambda ids: bad(social(ids, occurred_at="4713-01-01 BC"), "occurred_at out of range"),
    "future_time": lambda ids: bad(social(ids, occurred_at="2099-01-01T00:00:00Z"), "in the future"),
    "leap_second": lambda ids: bad(social(ids, occurred_at="2026-03-01T12:00:60Z"), "unparseable occurred_at"),
}

# --- historical orders (CSV) ---------------------------------------------------------------

CSV_HEADER = b"order_id,customer_id,email,order_date,amount,currency"


def row(ids: Ids, **fields: str) -> bytes:
    values = {
        "order_id": ids.next("ho"),
        "customer_id": ids.next("hc"),
        "email": f"{ids.next('old')}@example.com",
        "order_date": "2025-06-01",
        "amount": "42.00",
        "currency": "USD",
    }
    values.update(fields)
    return ",".join(values.values()).encode()


def _unterminated(ids: Ids) -> Outcome:
    return row(ids, customer_id='"broken'), "quarantined", "unterminated quoted field"


CSV_KINDS: dict[str, Kind] = {
    "order": lambda ids: (row(ids), "landed", None),
    "dollars_with_thousands": lambda ids: (row(ids, amount='"$1,234.50"'), "landed", None),
    "no_order_id": lambda ids: (row(ids, order_id=""), "landed", None),
    "compact_date": lambda ids: (row(ids, order_date="20250601"), "landed", None),
    "quoted_comma": lambda ids: (row(ids, customer_id='"Acme, Inc"'), "landed", None),
    "quoted_newline": lambda ids: (row(ids, customer_id='"Acme\nLtd"'), "landed", None),
    "email_only": lambda ids: (row(ids, customer_id=""), "landed", None),
    "nul_byte": lambda ids: (row(ids, customer_id="a\x00b"), "quarantined", "NUL byte"),
    "invalid_utf8": lambda ids: (row(ids).replace(b"example", b"ex\xffample"), "quarantined", "invalid UTF-8"),
    "field_over_128k": lambda ids: (row(ids, customer_id="z" * (130 << 10)), "quarantined", "record too large"),
    "unterminated_quote": _unterminated,
    "amount_overflows_after_rounding": lambda ids: (
        row(ids, amount="999999999999.999"),
        "quarantined",
        "amount out of range",
    ),
    "amount_huge_exponent": lambda ids: (row(ids, amount="1e999999"), "quarantined", "amount must be a number"),
    "refund": lambda ids: (row(ids, amount="-3"), "quarantined", "negative amount"),
    "decimal_comma": lambda ids: (row(ids, amount='"12,50"'), "quarantined", "amount must be a number"),
    "future_date": lambda ids: (row(ids, order_date="2099-01-01"), "quarantined", "order_date in the future"),
    "year_one_date": lambda ids: (row(ids, order_date="0001-01-01"), "quarantined", "order_date out of range"),
    "word_date": lambda ids: (row(ids, order_date="yesterday"), "quarantined", "unparseable order_date"),
    "short_row": lambda ids: (f"{ids.next('short')},2".encode(), "quarantined", "wrong number of fields"),
    "nobody": lambda ids: (row(ids, customer_id="", email=""), "quarantined", "order names no customer"),
    "word_currency": lambda ids: (row(ids, currency="US$"), "quarantined", "currency must be a 3-letter"),
    "long_customer_id": lambda ids: (row(ids, customer_id="c" * 300), "quarantined", "customer_id too long"),
}

KINDS: dict[str, dict[str, Kind]] = {
    "segment": SEGMENT_KINDS,
    "sendgrid": SENDGRID_KINDS,
    "shopify": SHOPIFY_KINDS,
    "social": SOCIAL_KINDS,
    "historical_orders": CSV_KINDS,
}
