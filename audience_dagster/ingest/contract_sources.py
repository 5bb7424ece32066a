"""The ingest ↔ staging guarantees of the Shopify, SendGrid, social and store sources (pure data;
the Segment ones and the :class:`Guarantee` are in :mod:`.contract_entries`)."""

from __future__ import annotations

from audience_dagster.ingest.contract_entries import Guarantee, order_line, sendgrid_line, social_line


def _money(model: str, column: str, field: str, *, required: bool) -> list[Guarantee]:
    q = dict(by="quarantine", source="shopify")
    how = f"{field}: a decimal from 0 to 999999999999.99 (numeric(14,2) after rounding)"
    out = [
        Guarantee(
            f"{model}.{column}:accepted_range",
            how=how,
            example=order_line(**{field: "-5.00"}),
            reason=f"{field} out of range",
            **q,
        )
    ]
    if required:
        out.append(
            Guarantee(
                f"{model}.{column}:not_null",
                how=f"{field} required; " + how,
                example=order_line(**{field: "99999999999999.99"}),
                reason=f"{field} out of range",
                **q,
            )
        )
    return out


def _item(**fields: object) -> str:
    return order_line(line_items=[{"id": 1, "quantity": 1, "price": "1.00", **fields}])


def shopify_guarantees() -> list[Guarantee]:
    return shopify_order_guarantees() + shopify_line_item_guarantees()


def shopify_order_guarantees() -> list[Guarantee]:
    orders, q = "stg_shopify__orders", dict(by="quarantine", source="shopify")
    return [
        Guarantee(
            f"{orders}.order_id:unique",
            by="dedup",
            source="shopify",
            how="raw.shopify_orders primary key (order_id)",
            example=order_line(),
        ),
        Guarantee(
            f"{orders}.order_id:not_null",
            how="id required, a positive integer that fits bigint",
            example=order_line(id="abc"),
            reason="id must be an integer",
            **q,
        ),
        Guarantee(
            f"{orders}.created_at:not_null",
            how="created_at required, ISO 8601, 1970 to now",
            example=order_line(created_at="0001-01-01T00:00:00Z"),
            reason="created_at out of range",
            **q,
        ),
        Guarantee(
            f"{orders}.currency:not_null",
            how="currency required, a 3-letter code",
            example=order_line(currency=None),
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
            example=order_line(customer={"id": "guest", "email": "g@b.org"}),
            reason="customer.id",
            **q,
        ),
    ]


def shopify_line_item_guarantees() -> list[Guarantee]:
    items, q = "stg_shopify__order_line_items", dict(by="quarantine", source="shopify")
    return [
        Guarantee(
            f"{items}.order_line_item_id:not_null",
            how="every line item needs a positive integer id",
            example=order_line(line_items=[{"quantity": 1, "price": "1.00"}]),
            reason="line item id",
            **q,
        ),
        Guarantee(
            f"{items}.order_line_item_id:unique",
            how=("line item ids unique within the order, and not held by another order (raw.shopify_line_items)"),
            example=order_line(
                line_items=[{"id": 5, "quantity": 1, "price": "1"}, {"id": 5, "quantity": 2, "price": "1"}]
            ),
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
    return sendgrid_guarantees() + social_guarantees() + store_guarantees()


def sendgrid_guarantees() -> list[Guarantee]:
    sg = "stg_sendgrid__events"
    return [
        Guarantee(
            f"{sg}.email_event_id:unique",
            by="dedup",
            source="sendgrid",
            how="raw.sendgrid_events primary key (sg_event_id)",
            example=sendgrid_line(),
        ),
        Guarantee(
            f"{sg}.email_event_id:not_null",
            by="quarantine",
            source="sendgrid",
            how="sg_event_id required, a non-blank string",
            example=sendgrid_line(sg_event_id={"a": 1}),
            reason="sg_event_id",
        ),
        Guarantee(
            f"{sg}.email:not_null",
            by="quarantine",
            source="sendgrid",
            how="email required, a string",
            example=sendgrid_line(email=None),
            reason="missing required field: email",
        ),
        Guarantee(
            f"{sg}.event_type:not_null",
            by="quarantine",
            source="sendgrid",
            how="event required, a non-blank string",
            example=sendgrid_line(event=""),
            reason="missing required field: event",
        ),
        Guarantee(
            f"{sg}.occurred_at:not_null",
            by="quarantine",
            source="sendgrid",
            how="timestamp required, UNIX seconds from 1970 to now",
            example=sendgrid_line(timestamp="1e999999"),
            reason="timestamp must be UNIX seconds",
        ),
        Guarantee(f"{sg}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
        Guarantee(f"{sg}.categories:not_null", by="staging", how="an array, empty when absent"),
    ]


def social_guarantees() -> list[Guarantee]:
    so = "stg_social__engagements"
    return [
        Guarantee(
            f"{so}.social_event_id:unique",
            by="dedup",
            source="social",
            how="raw.social_events primary key (event_id)",
            example=social_line(),
        ),
        Guarantee(
            f"{so}.social_event_id:not_null",
            by="quarantine",
            source="social",
            how="event_id required, a non-blank string or number",
            example=social_line(event_id=""),
            reason="missing required field: event_id",
        ),
        Guarantee(
            f"{so}.platform:not_null",
            by="quarantine",
            source="social",
            how="platform required, a string",
            example=social_line(platform=None),
            reason="missing required field: platform",
        ),
        Guarantee(
            f"{so}.action:not_null",
            by="quarantine",
            source="social",
            how="action required, a string",
            example=social_line(action=[]),
            reason="action",
        ),
        Guarantee(
            f"{so}.handle:not_null",
            by="quarantine",
            source="social",
            how="handle required, a string",
            example=social_line(handle=None),
            reason="missing required field: handle",
        ),
        Guarantee(
            f"{so}.occurred_at:not_null",
            by="quarantine",
            source="social",
            how="occurred_at required, ISO 8601, 1970 to now",
            example=social_line(occurred_at="4713-01-01 BC"),
            reason="occurred_at out of range",
        ),
        Guarantee(f"{so}.loaded_at:not_null", by="raw", how="set by ingestion for every row"),
    ]


def store_guarantees() -> list[Guarantee]:
    st = "stg_store__historical_orders"
    return [
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
