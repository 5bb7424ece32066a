"""The touchpoints we ingest: where their files are, what a record must hold, where it lands.

Pure: static definitions (no user input reaches them). Each :class:`Source` says which fields
its load statement extracts, which checks quarantine a record (``checks``, then the
:mod:`~audience_dagster.ingest.fields` checks, then ``late_checks``; first failing check wins)
and which raw columns a good record fills. :mod:`~audience_dagster.ingest.statements` compiles
them into the one set-based statement per file. What every check guarantees downstream is the
contract in docs/ingestion.md (``ingest/contract.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from audience_dagster.ingest import fields as fc
from audience_dagster.ingest.fields import FieldCheck, compile_fields, sample
from audience_dagster.ingest.statements import (  # noqa: F401 - re-exported: the public API of ingest
    compile_load_statement,
    compile_reader_quarantine,
    compile_suppression,
    land_checked,
    suppression_key_columns,
)


@dataclass(frozen=True)
class Source:
    """One landing source: where its files are, what they hold and how to check a record."""

    name: str
    landing_subdir: str
    file_format: str  # 'jsonl' or 'csv'
    table: str
    key: str
    # "expression AS name" over the parsed object `o` (and bound parameters)
    fields: tuple[str, ...]
    # "expression AS name" over the fields above
    derived: tuple[str, ...]
    # (condition, reason expression): the first true condition quarantines the record
    checks: tuple[tuple[str, str], ...]
    # raw table column -> expression over fields/derived/o
    columns: tuple[tuple[str, str], ...]
    description: str
    # (identifier type, expression over fields/o): the identifiers checked against the
    # suppression list of erased people
    identifiers: tuple[tuple[str, str], ...] = ()
    # condition over fields/o: the record asked not to be tracked (counted, not stored)
    do_not_track: str = "false"
    # the typed fields every model reads (ingest/fields.py), checked after `checks`
    field_checks: tuple[FieldCheck, ...] = ()
    # checks that need the typed fields, after the field checks
    late_checks: tuple[tuple[str, str], ...] = ()
    # CTEs between the per-record checks (`checked_fields`) and the landing (`checked`): checks
    # across records, e.g. a Shopify line item id another order already holds
    post_checks: str = ""
    # data-modifying CTEs after the landing (`landed` returns the landed keys as `key`)
    landing_extras: str = ""

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.fields + compile_fields(self.field_checks)[0]

    @property
    def extracts(self) -> tuple[str, ...]:
        """The jsonb values the field checks read (``x.j_<path>``), once per record."""
        return compile_fields(self.field_checks)[1]

    @property
    def all_checks(self) -> tuple[tuple[str, str], ...]:
        return self.checks + compile_fields(self.field_checks)[2] + self.late_checks


_EPOCH_MAX = "32503680000"  # 3000-01-01: beyond it to_timestamp() would raise
BIGINT_MAX = 9223372036854775807
INT_MAX = 2147483647


def _future(column: str, raw: str) -> tuple[str, str]:
    return (
        f"{column} > %(loaded_at)s::timestamptz + %(future_tolerance)s",
        f"'{raw} in the future: ' || {sample(f'o->>{raw!r}')}",
    )


CONSENT_EVENT = "Segment Consent Preference Updated"
# A message is do-not-track when its own context says so: `context.doNotTrack` true or "1", or
# consent preferences refusing every category. A consent update is always kept: it is how the
# profile's consent and do_not_track are known. The cheap test comes first (most messages carry
# neither member): it keeps the check at ~0.5 µs a message.
SEGMENT_DO_NOT_TRACK = (
    "CASE WHEN o #> '{context,doNotTrack}' IS NULL AND o #> '{context,consent}' IS NULL THEN false ELSE"
    f" (o->>'type' IS DISTINCT FROM 'track' OR o->>'event' IS DISTINCT FROM '{CONSENT_EVENT}')"
    " AND (o #>> '{context,doNotTrack}' IN ('true', '1')"
    " OR privacy.refuses_every_category(o #> '{context,consent,categoryPreferences}')) END"
)
_TRACK, _ALIAS, _GROUP, _IDENTIFY = (f"message_type = '{t}'" for t in ("track", "alias", "group", "identify"))
_BLANK = f"coalesce(btrim(o->>'{{}}', {fc.WHITESPACE}), '') = ''"
# both clocks must be sane before Segment's skew correction subtracts one from the other
_SKEW_CORRECTABLE = (
    "sent_at IS NOT NULL AND raw.timestamp_in_range(sent_at) AND raw.timestamp_in_range(original_timestamp)"
)

SEGMENT = Source(
    name="segment",
    landing_subdir="segment",
    file_format="jsonl",
    table="raw.segment_messages",
    key="message_id",
    fields=(
        "o->>'type' AS message_type",
        "o->>'messageId' AS message_id",
        "o->>'anonymousId' AS anonymous_id",
        "o->>'userId' AS user_id",
        "coalesce(o->>'originalTimestamp', o->>'timestamp') AS original_text",
        "raw.try_timestamptz(coalesce(o->>'originalTimestamp', o->>'timestamp')) AS original_timestamp",
        "raw.try_timestamptz(o->>'sentAt') AS sent_at",
        "raw.try_timestamptz(o->>'receivedAt') AS received_parsed",
    ),
    derived=(
        # Segment sets receivedAt on arrival; a message without one arrives now (at load)
        "coalesce(received_parsed, %(loaded_at)s::timestamptz) AS received_at",
        # Segment's clock-skew correction: timestamp = receivedAt - (sentAt - originalTimestamp)
        f"CASE WHEN {_SKEW_CORRECTABLE} AND raw.timestamp_in_range(received_parsed) IS NOT FALSE"
        " THEN coalesce(received_parsed, %(loaded_at)s::timestamptz) - (sent_at - original_timestamp)"
        " ELSE original_timestamp END AS corrected",
    ),
    checks=(
        (_BLANK.format("type"), "'missing required field: type'"),
        (
            "o->>'type' NOT IN ('track', 'page', 'screen', 'identify', 'alias', 'group')",
            "'unknown message type: ' || " + sample("o->>'type'"),
        ),
    ),
    field_checks=(
        fc.key("messageId"),
        fc.ident("anonymousId"),
        fc.ident("userId"),
        fc.name("event", required=True, when=_TRACK),
        fc.ident("previousId", required=True, when=_ALIAS),
        fc.ident("userId", required=True, when=_ALIAS),
        fc.ident("groupId", required=True, when=_GROUP),
        fc.json_object("properties"),
        fc.json_object("traits"),
        fc.json_object("context"),
        fc.ident("traits", "email", types=("string",), when=_IDENTIFY),
        fc.ident("traits", "phone", when=_IDENTIFY),
        *(fc.name("traits", n, when=_IDENTIFY) for n in ("firstName", "first_name", "lastName", "last_name")),
        fc.json_object("traits", "address", when=_IDENTIFY),
        fc.ident("properties", "order_id", when=_TRACK),
        fc.ident("context", "device", "id"),
    ),
    late_checks=(
        (
            f"{_BLANK.format('anonymousId')} AND {_BLANK.format('userId')}",
            "'missing required field: anonymousId or userId'",
        ),
        ("original_text IS NULL", "'missing required field: timestamp'"),
        ("original_timestamp IS NULL", "'unparseable timestamp: ' || " + sample("original_text")),
        ("o->>'sentAt' IS NOT NULL AND sent_at IS NULL", "'unparseable sentAt: ' || " + sample("o->>'sentAt'")),
        (
            "o->>'receivedAt' IS NOT NULL AND received_parsed IS NULL",
            "'unparseable receivedAt: ' || " + sample("o->>'receivedAt'"),
        ),
        (
            "NOT raw.timestamp_in_range(sent_at)",
            "'sentAt out of range: ' || " + sample("o->>'sentAt'") + " || ' (1970 to 2199)'",
        ),
        (
            "NOT raw.timestamp_in_range(received_parsed)",
            "'receivedAt out of range: ' || " + sample("o->>'receivedAt'") + " || ' (1970 to 2199)'",
        ),
        (
            "NOT raw.timestamp_in_range(corrected)",
            "CASE WHEN corrected = original_timestamp THEN 'timestamp out of range: ' || "
            + sample("original_text")
            + " || ' (1970 to 2199)' ELSE 'timestamp out of range after clock-skew correction: ' || "
            + sample("original_text")
            + " END",
        ),
    ),
    columns=(
        ("message_id", "message_id"),
        ("message_type", "message_type"),
        ("anonymous_id", "anonymous_id"),
        ("user_id", "user_id"),
        ("original_timestamp", "original_timestamp"),
        ("sent_at", "sent_at"),
        ("received_at", "received_at"),
        # clamp: an event time too far past its receipt is replaced by the receipt time
        ("occurred_at", "CASE WHEN corrected > received_at + %(future_tolerance)s THEN received_at ELSE corrected END"),
        ("timestamp_clamped", "corrected > received_at + %(future_tolerance)s"),
        ("payload", "o"),
    ),
    description="Segment-spec messages (track, page, screen, identify, alias, group)",
    identifiers=(
        ("anonymous_id", "anonymous_id"),
        ("user_id", "user_id"),
        ("anonymous_id", "o->>'previousId'"),
        ("email", "o #>> '{traits,email}'"),
        ("email", "o #>> '{context,traits,email}'"),
        ("email", "o #>> '{properties,email}'"),
    ),
    do_not_track=SEGMENT_DO_NOT_TRACK,
)

SENDGRID = Source(
    name="sendgrid",
    landing_subdir="sendgrid",
    file_format="jsonl",
    table="raw.sendgrid_events",
    key="sg_event_id",
    fields=(
        "o->>'sg_event_id' AS sg_event_id",
        "raw.try_numeric(o->>'timestamp') AS epoch",
    ),
    derived=(
        # rounded first: a tiny exponent (1e-400) would underflow double precision
        f"CASE WHEN epoch BETWEEN 0 AND {_EPOCH_MAX} THEN to_timestamp(round(epoch, 6)::double precision) END"
        " AS occurred_at",
    ),
    checks=(),
    field_checks=(
        fc.key("sg_event_id"),
        fc.name("event", required=True),
        fc.ident("email", required=True, types=("string",)),
        fc.ident("contact_id"),
        fc.FieldCheck(("timestamp",), "epoch", required=True, types=("number", "string")),
    ),
    late_checks=(
        ("epoch IS NULL", "'wrong type: timestamp must be UNIX seconds, got ' || " + sample("o->>'timestamp'")),
        ("occurred_at IS NULL", "'timestamp out of range: ' || " + sample("o->>'timestamp'")),
        (
            "occurred_at > %(loaded_at)s::timestamptz + %(future_tolerance)s",
            "'timestamp in the future: ' || " + sample("o->>'timestamp'"),
        ),
    ),
    columns=(
        ("sg_event_id", "sg_event_id"),
        ("event", "o->>'event'"),
        ("email", "o->>'email'"),
        ("occurred_at", "occurred_at"),
        ("payload", "o"),
    ),
    description="SendGrid event-webhook events (processed, delivered, open, click, …)",
    identifiers=(("email", "o->>'email'"), ("email_provider_id", "o->>'contact_id'")),
)

# Line items, checked across the file's orders at once (one unnest of every valid order's
# line_items): each an object with a positive integer id, a quantity from 1 to INT_MAX written
# as an integer and a price staging can hold; an id is one order's — the first order of the
# file naming it wins, an id twice in one order or held by an order loaded before
# (raw.shopify_line_items) quarantines the order. The landed orders' line items are recorded
# in raw.shopify_line_items by the same statement (`landing_extras`).
SHOPIFY_LINE_ITEM_CHECKS = f"""line_items AS MATERIALIZED (
    SELECT c.line_no, c.n_id AS order_id,
        CASE
            WHEN jsonb_typeof(item) <> 'object' THEN 'wrong type: line_items must hold objects'
            WHEN coalesce(raw.try_bigint(item ->> 'id'), 0) < 1
                THEN 'line item id must be a positive integer, got ' || {sample("coalesce(item ->> 'id', 'none')")}
            WHEN NOT CASE WHEN pg_input_is_valid(item ->> 'quantity', 'integer')
                          THEN (item ->> 'quantity')::integer >= 1 ELSE false END
                THEN 'line item quantity must be a whole number from 1 to {INT_MAX}, got '
                    || {sample("coalesce(item ->> 'quantity', 'none')")}
            WHEN coalesce(round(raw.try_numeric(item ->> 'price'), 2), -1) NOT BETWEEN 0 AND {fc.MAX_MONEY}
                THEN 'line item price must be a decimal from 0 to {fc.MAX_MONEY}, got '
                    || {sample("coalesce(item ->> 'price', 'none')")}
        END AS problem,
        raw.try_bigint(item ->> 'id') AS line_item_id
    FROM checked_fields AS c
    CROSS JOIN LATERAL jsonb_array_elements(c.o -> 'line_items') AS item
    WHERE c.field_reason IS NULL AND jsonb_typeof(c.o -> 'line_items') = 'array'
),
line_item_problems AS MATERIALIZED (
    SELECT line_no, min(problem) AS problem
    FROM (
        SELECT line_no, problem FROM line_items WHERE problem IS NOT NULL
        UNION ALL
        SELECT k.line_no,
            CASE WHEN k.in_order > 1 THEN 'duplicate line item id ' || k.line_item_id || ' within the order'
                 ELSE 'line item id ' || k.line_item_id || ' belongs to another order' END
        FROM (
            SELECT line_no, order_id, line_item_id,
                count(*) OVER (PARTITION BY line_no, line_item_id) AS in_order,
                first_value(order_id) OVER (PARTITION BY line_item_id ORDER BY line_no) AS first_order_id
            FROM line_items
            WHERE line_item_id IS NOT NULL
        ) AS k
        LEFT JOIN raw.shopify_line_items AS held
            ON held.line_item_id = k.line_item_id AND held.order_id <> k.order_id
        WHERE k.in_order > 1 OR k.order_id <> k.first_order_id OR held.line_item_id IS NOT NULL
    ) AS problems
    GROUP BY line_no
),
checked AS NOT MATERIALIZED (
    SELECT c.*, coalesce(c.field_reason, p.problem) AS reason
    FROM checked_fields AS c
    LEFT JOIN line_item_problems AS p USING (line_no)
)"""
SHOPIFY_LINE_ITEMS_LANDED = """line_items_landed AS (
    INSERT INTO raw.shopify_line_items (line_item_id, order_id)
    SELECT i.line_item_id, i.order_id FROM line_items AS i JOIN landed AS l ON l.key = i.order_id
    ON CONFLICT DO NOTHING
)"""

SHOPIFY = Source(
    name="shopify",
    landing_subdir="shopify",
    file_format="jsonl",
    table="raw.shopify_orders",
    key="order_id",
    fields=(),
    derived=(),
    checks=(),
    field_checks=(
        fc.integer("id", low=1, high=BIGINT_MAX, required=True),
        fc.timestamp("created_at", required=True),
        fc.money("total_price", required=True),
        *(fc.money(m, blank_is_absent=True) for m in ("subtotal_price", "total_discounts", "total_tax")),
        fc.FieldCheck(("currency",), "name", required=True),
        fc.ident("email", types=("string",)),
        fc.json_object("customer"),
        fc.json_array("line_items"),
        fc.integer("customer", "id", low=1, high=BIGINT_MAX, when="jsonb_typeof(o -> 'customer') = 'object'"),
    ),
    late_checks=(
        _future("n_created_at", "created_at"),
        (
            "o->>'currency' !~ '^[A-Za-z]{3}$'",
            "'wrong type: currency must be a 3-letter ISO 4217 code, got ' || " + sample("o->>'currency'"),
        ),
        (
            "o #>> '{customer,id}' IS NULL"
            " AND (o #>> '{customer,email}' IS NOT NULL"
            " OR o #>> '{customer,first_name}' IS NOT NULL)",
            "'missing required field: customer.id (the customer has an email or a name)'",
        ),
        (
            f"coalesce(btrim(o->>'email', {fc.WHITESPACE}), '') = ''"
            f" AND coalesce(o #>> '{{customer,id}}', '') = '' AND coalesce(o #>> '{{customer,email}}', '') = ''",
            "'order names no customer: needs customer.id or email'",
        ),
    ),
    post_checks=SHOPIFY_LINE_ITEM_CHECKS,
    landing_extras=SHOPIFY_LINE_ITEMS_LANDED,
    columns=(
        ("order_id", "n_id"),
        ("created_at", "n_created_at"),
        ("payload", "o"),
    ),
    description="Shopify orders (REST Admin API order JSON)",
    identifiers=(
        ("shopify_customer_id", "o #>> '{customer,id}'"),
        ("email", "o->>'email'"),
        ("email", "o #>> '{customer,email}'"),
    ),
)

SOCIAL = Source(
    name="social",
    landing_subdir="social",
    file_format="jsonl",
    table="raw.social_events",
    key="event_id",
    fields=(),
    derived=(),
    checks=(),
    field_checks=(
        fc.key("event_id", types=("string", "number")),
        fc.name("platform", required=True),
        fc.name("action", required=True),
        fc.ident("handle", required=True, types=("string",)),
        fc.timestamp("occurred_at", required=True),
        fc.ident("email", types=("string",)),
    ),
    late_checks=(
        (
            f"ltrim(btrim(o->>'handle', {fc.WHITESPACE}), '@') = ''",
            "'missing required field: handle (only an @)'",
        ),
        _future("n_occurred_at", "occurred_at"),
    ),
    columns=(
        ("event_id", "o->>'event_id'"),
        ("platform", "lower(o->>'platform')"),
        ("action", "lower(o->>'action')"),
        ("handle", "o->>'handle'"),
        ("occurred_at", "n_occurred_at"),
        ("payload", "o"),
    ),
    description="Social engagement (like, share, comment, follow)",
    identifiers=(
        # as identity resolution names a handle: 'platform:handle' without the '@'
        ("social_handle", "lower(o->>'platform') || ':' || ltrim(btrim(o->>'handle'), '@')"),
        ("email", "o->>'email'"),
    ),
)

JSON_SOURCES: tuple[Source, ...] = (SEGMENT, SENDGRID, SHOPIFY, SOCIAL)
