"""Import a store's order history from CSV into ``raw.historical_orders``.

Accepted columns (header names are case-insensitive; the first alias found wins):

| column | aliases | required |
| --- | --- | --- |
| order_id | id, order, order_number, invoice_id | no (a content hash is used) |
| customer_id | customer, client_id, customer_number | one of customer_id / email |
| email | customer_email, email_address | one of customer_id / email |
| order_date | date, created_at, ordered_at, purchase_date | yes: ISO 8601 or YYYYMMDD |
| amount | total, total_price, revenue, value, order_total | yes: 12.50, "$1,234.50" (not "12,50") |
| currency | currency_code | no |

Rows that break the CSV structure (invalid UTF-8, a NUL byte, an unterminated quote, a record
over 128 KiB, the wrong number of fields) are quarantined by the strict reader
(:mod:`.csv_reader`), each alone; the rest are validated set-based in SQL, like the JSON
sources: dates from 1970 up to now (plus the future tolerance), amounts from 0 to what
``numeric(14,2)`` holds after rounding, ids and emails of at most 256 bytes, currencies of
three letters. Re-importing the same file adds nothing. A file whose header lacks the required
columns is rejected as a whole (in the ledger, with the reason). Rows of erased people (their
customer id or email is suppressed) are counted, not stored.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2.extensions

from audience_dagster.errors import IngestError
from audience_dagster.ingest.csv_reader import CsvRows, read_rows
from audience_dagster.ingest.fields import MAX_IDENTIFIER_BYTES, MAX_MONEY
from audience_dagster.ingest.landing import file_identity, open_landing
from audience_dagster.ingest.ledger import claim_file, record_ledger, remember_unchanged
from audience_dagster.ingest.loader import FileLoad, contained, suppression_active
from audience_dagster.ingest.statements import compile_reader_quarantine, land_checked, suppression_key_columns

SOURCE = "historical_orders"
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "id", "order", "order_number", "invoice_id"),
    "customer_id": ("customer_id", "customer", "client_id", "customer_number"),
    "email": ("email", "customer_email", "email_address"),
    "order_date": ("order_date", "date", "created_at", "ordered_at", "purchase_date"),
    "amount": ("amount", "total", "total_price", "revenue", "value", "order_total"),
    "currency": ("currency", "currency_code"),
}

_LANDING_TABLE = """
CREATE TEMP TABLE landing_orders (
    line_no bigint, record text, order_id text, customer_id text, email text,
    order_date text, amount text, currency text
) ON COMMIT DROP
"""

IDENTIFIERS: tuple[tuple[str, str], ...] = (("shopify_customer_id", "customer_id"), ("email", "email"))

_LOAD = """
WITH stripped AS (
    SELECT
        *,
        -- currency symbols and spaces go; a comma only as a thousands separator (next step)
        regexp_replace(amount, '[$€£¥[:space:]]', '', 'g') AS amount_stripped
    FROM pg_temp.landing_orders
),
typed AS (
    SELECT
        line_no,
        nullif(btrim(order_id), '') AS order_id,
        nullif(btrim(customer_id), '') AS customer_id,
        nullif(btrim(email), '') AS email,
        btrim(order_date) AS order_date_text,
        coalesce(
            raw.try_timestamptz(btrim(order_date)),
            CASE WHEN btrim(order_date) ~ '^\\d{8}$' AND pg_input_is_valid(btrim(order_date), 'date')
                 THEN btrim(order_date)::date::timestamptz END
        ) AS ordered_at,
        btrim(amount) AS amount_text,
        -- a comma only as a thousands separator in groups of three ("1,234.50"):
        -- "12,50" is ambiguous (decimal comma?) and is quarantined
        raw.try_numeric(CASE
            WHEN strpos(amount_stripped, ',') = 0 THEN amount_stripped
            WHEN amount_stripped ~ '^[+-]?\\d{1,3}(,\\d{3})+(\\.\\d+)?$' THEN replace(amount_stripped, ',', '')
        END) AS amount,
        nullif(upper(btrim(currency)), '') AS currency
    FROM stripped
),
checked AS MATERIALIZED (
    SELECT
        typed.*,
        CASE
            WHEN coalesce(order_date_text, '') = '' THEN 'missing required field: order_date'
            WHEN ordered_at IS NULL THEN 'unparseable order_date: ' || quote_literal(left(order_date_text, 40))
            WHEN NOT raw.timestamp_in_range(ordered_at)
                THEN 'order_date out of range: ' || quote_literal(left(order_date_text, 40)) || ' (1970 to 2199)'
            WHEN ordered_at > %(loaded_at)s::timestamptz + %(future_tolerance)s
                THEN 'order_date in the future: ' || quote_literal(left(order_date_text, 40))
            WHEN coalesce(amount_text, '') = '' THEN 'missing required field: amount'
            WHEN amount IS NULL THEN 'wrong type: amount must be a number, got ' || quote_literal(left(amount_text, 40))
            WHEN amount < 0 THEN 'negative amount: refunds are not orders'
            WHEN round(amount, 2) > __MAX_MONEY__
                THEN 'amount out of range: ' || quote_literal(left(amount_text, 40)) || ' (must be 0 to __MAX_MONEY__)'
            WHEN customer_id IS NULL AND email IS NULL THEN 'order names no customer: needs customer_id or email'
            WHEN octet_length(order_id) > __MAX_ID__
                THEN 'order_id too long: ' || octet_length(order_id) || ' bytes (limit __MAX_ID__)'
            WHEN octet_length(customer_id) > __MAX_ID__
                THEN 'customer_id too long: ' || octet_length(customer_id) || ' bytes (limit __MAX_ID__)'
            WHEN octet_length(email) > __MAX_ID__
                THEN 'email too long: ' || octet_length(email) || ' bytes (limit __MAX_ID__)'
            WHEN currency !~ '^[A-Z]{3}$'
                THEN 'wrong type: currency must be a 3-letter ISO 4217 code, got ' || quote_literal(left(currency, 40))
        END AS reason,
        false AS do_not_track{suppression_keys},
        coalesce(
            order_id,
            'h:' || md5(concat_ws('|', customer_id, lower(email), ordered_at::text, amount::text,
                row_number() OVER (
                    PARTITION BY customer_id, lower(email), ordered_at, amount ORDER BY line_no
                )::text))
        ) AS order_key
    FROM typed
),
""".replace("__MAX_MONEY__", MAX_MONEY).replace("__MAX_ID__", str(MAX_IDENTIFIER_BYTES))


def compile_orders_load(*, suppression: bool = False) -> str:
    """The statement that validates and lands ``pg_temp.landing_orders`` (see the module doc);
    with ``suppression``, rows of erased people are counted and not stored."""
    keys = suppression_key_columns(IDENTIFIERS) if suppression else ""
    return _LOAD.replace("{suppression_keys}", keys) + land_checked(
        "raw.historical_orders",
        "order_key, order_id, customer_id, email, ordered_at, amount, currency",
        "order_key, order_id, customer_id, email, ordered_at, round(amount, 2), currency",
        "order_key",
        "pg_temp.landing_orders",
        "record",
        identifiers=IDENTIFIERS if suppression else None,
    )


_REJECTED_ROWS = "SELECT * FROM unnest(%(bad_lines)s::bigint[], %(bad_reasons)s::text[], %(bad_records)s::text[])"


def map_header(header: list[str]) -> dict[str, int]:
    """Column name → index in the file, by the aliases in ``COLUMNS``.

    Raises :class:`IngestError` naming what is missing when the file cannot be read as orders.
    """
    normalised = [h.strip().lower().lstrip("\ufeff") for h in header]
    found: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in normalised:
                found[column] = normalised.index(alias)
                break
    missing = [c for c in ("order_date", "amount") if c not in found]
    if "customer_id" not in found and "email" not in found:
        missing.append("customer_id or email")
    if missing:
        raise IngestError(
            f"header {','.join(header)!r} lacks required column(s): {', '.join(missing)}; "
            f"accepted names: " + "; ".join(f"{c}: {'/'.join(a)}" for c, a in COLUMNS.items())
        )
    return found


def split_rows(lines: Iterable[bytes | str], positions: dict[str, int], width: int) -> tuple[io.StringIO, CsvRows]:
    """Data lines of an orders CSV → (COPY buffer of the good rows, what the reader found).

    The buffer holds one CSV row per good record: line number, the record as read, then the
    columns of ``COLUMNS`` in order (empty when the file has no such column).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    report = CsvRows()
    order = list(COLUMNS)
    encoded = (line.encode("utf-8") if isinstance(line, str) else line for line in lines)
    for line, row in read_rows(encoded, width, report):
        writer.writerow([line, ",".join(row), *(row[positions[c]] if c in positions else "" for c in order)])
    out.seek(0)
    return out, report


def read_header(handle) -> list[str]:
    """The header row (UTF-8, a byte-order mark allowed); :class:`IngestError` if unreadable."""
    first = handle.readline()
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise IngestError(f"the header line is not UTF-8 (byte {exc.start + 1}); save the file as UTF-8") from None
    if "\x00" in text or not text.strip():
        raise IngestError("the first line must be a header naming the columns; it is empty or holds a NUL byte")
    return next(csv.reader([text]), [])


def load_orders_csv(
    conn: psycopg2.extensions.connection,
    path: Path,
    display_path: str | None = None,
    *,
    future_tolerance: timedelta = timedelta(days=1),
) -> FileLoad:
    """Load one orders CSV in one transaction (committed here); idempotent by content hash. A
    file that cannot be read as orders (header, gzip, I/O) is recorded as rejected, not raised."""
    shown = display_path or str(path)
    return contained(conn, SOURCE, path, shown, lambda: _load_orders(conn, path, shown, future_tolerance))


def _load_orders(conn: psycopg2.extensions.connection, path: Path, shown: str, future_tolerance: timedelta) -> FileLoad:
    started = time.perf_counter()
    identity = file_identity(path)
    sha = identity.sha256
    loaded_at = datetime.now(UTC)
    with conn.cursor() as cur:
        if not claim_file(cur, SOURCE, sha):
            remember_unchanged(cur, SOURCE, shown, identity)
            conn.commit()
            return FileLoad(path=shown, sha256=sha, skipped=True)
        suppression = suppression_active(cur)
        with open_landing(path) as handle:
            header = read_header(handle)
            positions = map_header(header)
            buffer, report = split_rows(handle, positions, len(header))
        cur.execute(_LANDING_TABLE)
        cur.copy_expert("COPY landing_orders FROM STDIN WITH (FORMAT csv)", buffer)
        params = {
            "source": SOURCE,
            "file_path": shown,
            "file_sha256": sha,
            "loaded_at": loaded_at,
            "future_tolerance": future_tolerance,
        }
        bad_quarantined, bad_again, bad_suppressed = _quarantine_bad_rows(cur, params, report, suppression)
        cur.execute(compile_orders_load(suppression=suppression), params)
        records, valid, inserted, quarantined, again, suppressed, do_not_track = cur.fetchone()
        result = FileLoad(
            path=shown,
            sha256=sha,
            skipped=False,
            lines=report.lines,
            records=records + len(report.bad),
            inserted=inserted,
            duplicates=valid - inserted,
            quarantined=quarantined + bad_quarantined,
            already_quarantined=again + bad_again,
            suppressed=suppressed + bad_suppressed,
            do_not_track=do_not_track,
            blank=report.blank + report.continued + 1,  # nor is the header
        )
        record_ledger(cur, SOURCE, shown, identity, result, loaded_at)
    conn.commit()
    return replace(result, seconds=time.perf_counter() - started)


def _quarantine_bad_rows(cur, params: dict, report: CsvRows, suppression: bool) -> tuple[int, int, int]:
    """Quarantine the rows the reader set aside; (quarantined, already_quarantined, suppressed)."""
    if not report.bad:
        return 0, 0, 0
    cur.execute(
        compile_reader_quarantine(_REJECTED_ROWS, suppression=suppression),
        {
            **params,
            "bad_lines": list(report.bad),
            "bad_reasons": [reason for reason, _ in report.bad.values()],
            "bad_records": [record for _, record in report.bad.values()],
        },
    )
    quarantined, again, suppressed = cur.fetchone()
    return quarantined, again, suppressed
