"""The touchpoints we ingest and the set-based SQL that validates and lands one file of each.

Pure: this module only builds SQL text from the static source definitions below (no user
input reaches it; values are bound parameters). One statement per file does everything:
parse every line as JSON, extract and type the required fields, decide a quarantine reason per
record (first failing check wins), insert the bad ones into ``raw.quarantine`` and the good
ones into the raw table with ``ON CONFLICT DO NOTHING`` on the source's natural key.

Privacy (see README "Privacy"): compiled with ``suppression=True`` (the loader does so when
``privacy.suppressed_identifiers`` is not empty), records naming an erased person's identifier
are neither stored nor quarantined, only counted; a Segment message whose own context says
do-not-track is counted and not stored, except a consent update.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def _missing(key: str) -> str:
    return f"coalesce(o->>'{key}', '') = ''"


def _not_type(path: str, *types: str) -> str:
    allowed = ", ".join(f"'{t}'" for t in (*types, "null"))
    return f"(o {path} IS NOT NULL AND jsonb_typeof(o {path}) NOT IN ({allowed}))"


def _sample(expr: str) -> str:
    """A short quoted excerpt of an offending value for the quarantine reason."""
    return f"quote_literal(left({expr}, 40))"


_EPOCH_MAX = "32503680000"  # 3000-01-01: beyond it to_timestamp() would raise

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
        "CASE WHEN sent_at IS NOT NULL"
        " THEN coalesce(received_parsed, %(loaded_at)s::timestamptz) - (sent_at - original_timestamp)"
        " ELSE original_timestamp END AS corrected",
    ),
    checks=(
        (_missing("type"), "'missing required field: type'"),
        (
            "o->>'type' NOT IN ('track', 'page', 'screen', 'identify', 'alias', 'group')",
            "'unknown message type: ' || " + _sample("o->>'type'"),
        ),
        (_missing("messageId"), "'missing required field: messageId'"),
        (_not_type("-> 'messageId'", "string"), "'wrong type: messageId must be a string'"),
        (_not_type("-> 'anonymousId'", "string", "number"), "'wrong type: anonymousId must be a string'"),
        (_not_type("-> 'userId'", "string", "number"), "'wrong type: userId must be a string'"),
        (f"{_missing('anonymousId')} AND {_missing('userId')}", "'missing required field: anonymousId or userId'"),
        (f"o->>'type' = 'track' AND {_missing('event')}", "'missing required field: event'"),
        (f"o->>'type' = 'alias' AND {_missing('previousId')}", "'missing required field: previousId'"),
        ("original_text IS NULL", "'missing required field: timestamp'"),
        ("original_timestamp IS NULL", "'unparseable timestamp: ' || " + _sample("original_text")),
        ("o->>'sentAt' IS NOT NULL AND sent_at IS NULL", "'unparseable sentAt: ' || " + _sample("o->>'sentAt'")),
        (
            "o->>'receivedAt' IS NOT NULL AND received_parsed IS NULL",
            "'unparseable receivedAt: ' || " + _sample("o->>'receivedAt'"),
        ),
        (_not_type("-> 'properties'", "object"), "'wrong type: properties must be an object'"),
        (_not_type("-> 'traits'", "object"), "'wrong type: traits must be an object'"),
        (_not_type("-> 'context'", "object"), "'wrong type: context must be an object'"),
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
        f"CASE WHEN epoch BETWEEN 0 AND {_EPOCH_MAX} THEN to_timestamp(epoch::double precision) END AS occurred_at",
    ),
    checks=(
        (_missing("sg_event_id"), "'missing required field: sg_event_id'"),
        (_missing("event"), "'missing required field: event'"),
        (_missing("email"), "'missing required field: email'"),
        (_missing("timestamp"), "'missing required field: timestamp'"),
        ("epoch IS NULL", "'wrong type: timestamp must be UNIX seconds, got ' || " + _sample("o->>'timestamp'")),
        ("occurred_at IS NULL", "'timestamp out of range: ' || " + _sample("o->>'timestamp'")),
        (
            "occurred_at > %(loaded_at)s::timestamptz + %(future_tolerance)s",
            "'timestamp in the future: ' || " + _sample("o->>'timestamp'"),
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

SHOPIFY = Source(
    name="shopify",
    landing_subdir="shopify",
    file_format="jsonl",
    table="raw.shopify_orders",
    key="order_id",
    fields=(
        "raw.try_bigint(o->>'id') AS order_id",
        "raw.try_timestamptz(o->>'created_at') AS created_at",
    ),
    derived=(),
    checks=(
        (_missing("id"), "'missing required field: id'"),
        ("order_id IS NULL", "'wrong type: id must be an integer, got ' || " + _sample("o->>'id'")),
        (_missing("created_at"), "'missing required field: created_at'"),
        ("created_at IS NULL", "'unparseable created_at: ' || " + _sample("o->>'created_at'")),
        (
            "created_at > %(loaded_at)s::timestamptz + %(future_tolerance)s",
            "'created_at in the future: ' || " + _sample("o->>'created_at'"),
        ),
        (_missing("total_price"), "'missing required field: total_price'"),
        (
            "raw.try_numeric(o->>'total_price') IS NULL",
            "'wrong type: total_price must be a decimal, got ' || " + _sample("o->>'total_price'"),
        ),
        (_not_type("-> 'customer'", "object"), "'wrong type: customer must be an object'"),
        (_not_type("-> 'line_items'", "array"), "'wrong type: line_items must be an array'"),
        (
            f"{_missing('email')} AND coalesce(o #>> '{{customer,id}}', '') = ''"
            f" AND coalesce(o #>> '{{customer,email}}', '') = ''",
            "'order names no customer: needs customer.id or email'",
        ),
    ),
    columns=(
        ("order_id", "order_id"),
        ("created_at", "created_at"),
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
    fields=("raw.try_timestamptz(o->>'occurred_at') AS occurred_at",),
    derived=(),
    checks=(
        (_missing("event_id"), "'missing required field: event_id'"),
        (_missing("platform"), "'missing required field: platform'"),
        (_missing("action"), "'missing required field: action'"),
        (_missing("handle"), "'missing required field: handle'"),
        (_missing("occurred_at"), "'missing required field: occurred_at'"),
        ("occurred_at IS NULL", "'unparseable occurred_at: ' || " + _sample("o->>'occurred_at'")),
        (
            "occurred_at > %(loaded_at)s::timestamptz + %(future_tolerance)s",
            "'occurred_at in the future: ' || " + _sample("o->>'occurred_at'"),
        ),
    ),
    columns=(
        ("event_id", "o->>'event_id'"),
        ("platform", "lower(o->>'platform')"),
        ("action", "lower(o->>'action')"),
        ("handle", "o->>'handle'"),
        ("occurred_at", "occurred_at"),
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


def suppression_key_columns(identifiers: tuple[tuple[str, str], ...]) -> str:
    """Select-list items for ``checked``: each identifier of the record as ``suppression_key_<i>``."""
    return "".join(f",\n        {expr} AS suppression_key_{i}" for i, (_, expr) in enumerate(identifiers))


def compile_suppression(identifiers: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """(CTEs, condition): the CTEs to put after ``checked`` and the condition, over a row ``c`` of
    it, that the record names an erased person.

    Hashing is the cost, so each *distinct* identifier value of the file is hashed once and
    matched against ``privacy.suppressed_identifiers`` (``suppressed_keys``: normally a few
    values or none). A record is then compared with those values by plain text, one hashed
    look-up per identifier, and not at all when the file has none. The look-ups are hashed
    because ``suppressed_keys`` is estimated small whatever the file's size; a condition on a
    set estimated as large as the file would be scanned once per record.
    """
    keys = ", ".join(f"('{kind}', c.suppression_key_{i})" for i, (kind, _) in enumerate(identifiers))
    per_record = " OR ".join(
        f"c.suppression_key_{i} IN (SELECT value FROM suppressed_keys WHERE identifier_type = '{kind}')"
        for i, (kind, _) in enumerate(identifiers)
    )
    ctes = f"""file_keys AS (
    SELECT DISTINCT k.identifier_type, k.value
    FROM checked AS c
    CROSS JOIN LATERAL (VALUES {keys}) AS k (identifier_type, value)
    WHERE k.value IS NOT NULL
),
suppressed_keys AS MATERIALIZED (
    SELECT identifier_type, value
    FROM file_keys
    WHERE (identifier_type, privacy.identifier_sha256(identifier_type, value))
        IN (SELECT identifier_type, value_sha256 FROM privacy.suppressed_identifiers)
),
"""
    return ctes, f"coalesce(EXISTS (SELECT 1 FROM suppressed_keys) AND ({per_record}), false)"


def compile_load_statement(source: Source, *, suppression: bool = False) -> str:
    """The single statement that validates and lands ``pg_temp.landing_lines`` for a source.

    Each ``LATERAL (… OFFSET 0)`` is an optimisation fence: without it the planner inlines the
    subqueries and re-parses the JSON text at every reference to ``o`` (40× slower).
    ``suppression``: also drop the records of erased people (:func:`compile_suppression`; the
    loader asks for it only when the suppression list is not empty).

    Bound parameters: source, file_path, file_sha256, loaded_at, future_tolerance (interval),
    skip_lines (bigint[]: lines already quarantined by the reader). Returns one row:
    (records, valid, inserted, quarantined, suppressed, do_not_track).
    """
    fields = ",\n            ".join(source.fields)
    derived = ",\n            ".join(source.derived) or "NULL AS nothing"
    checks = "\n".join(f"            WHEN {cond} THEN {reason}" for cond, reason in source.checks)
    names = ", ".join(name for name, _ in source.columns)
    values = ",\n        ".join(f"{expr} AS {name}" for name, expr in source.columns)
    keys = suppression_key_columns(source.identifiers) if suppression else ""
    return f"""
WITH checked AS MATERIALIZED (
    SELECT
        l.line_no,
        r.o,
        f.*,
        d.*,
        CASE
            WHEN r.j IS NULL THEN 'invalid JSON'
            WHEN r.o IS NULL THEN 'not a JSON object: got a JSON ' || jsonb_typeof(r.j)
{checks}
        END AS reason,
        CASE WHEN r.o IS NULL THEN false ELSE coalesce({source.do_not_track}, false) END AS do_not_track{keys}
    FROM pg_temp.landing_lines AS l
    CROSS JOIN LATERAL (SELECT raw.try_jsonb(l.body) AS j OFFSET 0) AS p
    CROSS JOIN LATERAL (
        SELECT p.j, CASE WHEN jsonb_typeof(p.j) = 'object' THEN p.j END AS o OFFSET 0
    ) AS r
    CROSS JOIN LATERAL (
        SELECT
            {fields}
        OFFSET 0
    ) AS f
    CROSS JOIN LATERAL (
        SELECT
            {derived}
        OFFSET 0
    ) AS d
    WHERE btrim(l.body, E' \t\r\n') <> '' AND l.line_no <> ALL(%(skip_lines)s::bigint[])
),
{
        land_checked(
            source.table,
            names,
            values,
            source.key,
            "pg_temp.landing_lines",
            "body",
            identifiers=source.identifiers if suppression else None,
        )
    }"""


def land_checked(
    table: str,
    names: str,
    values: str,
    key: str,
    landing_table: str,
    record_column: str,
    *,
    identifiers: tuple[tuple[str, str], ...] | None = None,
) -> str:
    """The tail every load statement shares, after a CTE ``checked`` (line_no, reason,
    do_not_track, …, and ``suppression_key_<i>`` for each of ``identifiers`` when given).

    Records are, in this order of precedence: *suppressed* (with ``identifiers``: they name an
    erased person, :func:`compile_suppression`; neither stored nor quarantined), *do-not-track*
    (counted, not stored), *quarantined* (a reason; their original text from ``landing_table``;
    with ``identifiers``, a bad record whose text holds a suppressed value counts as suppressed
    instead), or inserted into ``table`` deduplicated on ``key``. Returns one row:
    (records, valid, inserted, quarantined, suppressed, do_not_track).
    """
    if identifiers:
        suppression, suppressed = compile_suppression(identifiers)
        mentions = f"privacy.mentions_suppressed(l.{record_column})"
    else:
        suppression, suppressed, mentions = "", "false", "false"
    return f"""{suppression}flagged AS NOT MATERIALIZED (
    SELECT c.*, {suppressed} AS suppressed FROM checked AS c
),
candidates AS MATERIALIZED (
    SELECT c.line_no, c.reason, l.{record_column} AS record, {mentions} AS mentions_suppressed
    FROM flagged AS c
    JOIN {landing_table} AS l USING (line_no)
    WHERE c.reason IS NOT NULL AND NOT c.suppressed AND NOT c.do_not_track
),
quarantined AS (
    INSERT INTO raw.quarantine (source, file_path, file_sha256, line_no, reason, record)
    SELECT %(source)s, %(file_path)s, %(file_sha256)s, line_no, reason, record
    FROM candidates
    WHERE NOT mentions_suppressed
    ON CONFLICT (file_sha256, line_no) DO NOTHING
    RETURNING 1
),
landed AS (
    INSERT INTO {table} ({names}, file_sha256, line_no, loaded_at)
    SELECT
        {values},
        %(file_sha256)s, line_no, %(loaded_at)s::timestamptz
    FROM flagged
    WHERE reason IS NULL AND NOT suppressed AND NOT do_not_track
    ON CONFLICT ({key}) DO NOTHING
    RETURNING 1
),
counted AS (
    SELECT
        count(*) AS records,
        count(*) FILTER (WHERE reason IS NULL AND NOT suppressed AND NOT do_not_track) AS valid,
        count(*) FILTER (WHERE suppressed) AS suppressed,
        count(*) FILTER (WHERE do_not_track AND NOT suppressed) AS do_not_track
    FROM (SELECT reason, do_not_track, suppressed FROM flagged OFFSET 0) AS f  -- flag once per record
)
SELECT
    records,
    valid,
    (SELECT count(*) FROM landed) AS inserted,
    (SELECT count(*) FROM quarantined) AS quarantined,
    suppressed + (SELECT count(*) FROM candidates WHERE mentions_suppressed) AS suppressed,
    do_not_track
FROM counted
"""


def compile_reader_quarantine(rows: str, *, suppression: bool = False) -> str:
    """Quarantine the records a reader rejected before SQL saw them (invalid UTF-8, a broken CSV
    row): ``rows`` is a query yielding (line_no, reason, record). With ``suppression``, a record
    whose text holds a suppressed value is counted instead of stored.

    Bound parameters: source, file_path, file_sha256 and those of ``rows``. Returns one row:
    (quarantined, suppressed).
    """
    mentions = "privacy.mentions_suppressed(record)" if suppression else "false"
    return f"""
WITH rejected AS MATERIALIZED (
    SELECT line_no, reason, record, {mentions} AS mentions_suppressed
    FROM ({rows}) AS r (line_no, reason, record)
),
quarantined AS (
    INSERT INTO raw.quarantine (source, file_path, file_sha256, line_no, reason, record)
    SELECT %(source)s, %(file_path)s, %(file_sha256)s, line_no, reason, record
    FROM rejected
    WHERE NOT mentions_suppressed
    ON CONFLICT (file_sha256, line_no) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM quarantined), (SELECT count(*) FROM rejected WHERE mentions_suppressed)
"""
