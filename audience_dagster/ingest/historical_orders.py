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

Rows that break the CSV structure are quarantined by the reader; the rest are validated
set-based in SQL, like the JSON sources. Re-importing the same file adds nothing. Rows of erased
people (their customer id or email is suppressed) are counted, not stored.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.extensions

from audience_dagster.errors import IngestError
from audience_dagster.ingest.landing import file_sha256, open_landing
from audience_dagster.ingest.loader import FileLoad, claim_file, record_ledger, suppression_active
from audience_dagster.ingest.sources import compile_reader_quarantine, land_checked, suppression_key_columns

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
            WHEN coalesce(amount_text, '') = '' THEN 'missing required field: amount'
            WHEN amount IS NULL THEN 'wrong type: amount must be a number, got ' || quote_literal(left(amount_text, 40))
            WHEN amount < 0 THEN 'negative amount: refunds are not orders'
            WHEN amount >= 1e12 THEN 'amount out of range: ' || quote_literal(left(amount_text, 40))
            WHEN customer_id IS NULL AND email IS NULL THEN 'order names no customer: needs customer_id or email'
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
"""


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


def split_rows(
    text: io.TextIOBase, positions: dict[str, int], width: int
) -> tuple[io.StringIO, dict[int, tuple[str, str]], int]:
    """CSV rows → (COPY buffer of well-formed rows, {line: (reason, record)}, lines read).

    Line numbers count the header as line 1 (as a spreadsheet shows them).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    bad: dict[int, tuple[str, str]] = {}
    reader = csv.reader(text)
    order = list(COLUMNS)
    line = 1
    for row in reader:
        line = reader.line_num + 1  # the header was line 1
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            bad[line] = (f"wrong number of fields: expected {width}, got {len(row)}", ",".join(row))
            continue
        record = ",".join(row)
        writer.writerow([line, record, *(row[positions[c]] if c in positions else "" for c in order)])
    out.seek(0)
    return out, bad, line


def load_orders_csv(conn: psycopg2.extensions.connection, path: Path, display_path: str | None = None) -> FileLoad:
    """Load one orders CSV in one transaction (committed here); idempotent by content hash."""
    started = time.perf_counter()
    sha = file_sha256(path)
    shown = display_path or str(path)
    loaded_at = datetime.now(UTC)
    with conn.cursor() as cur:
        if not claim_file(cur, sha):
            conn.rollback()
            return FileLoad(path=shown, sha256=sha, skipped=True)
        suppression = suppression_active(cur)
        with open_landing(path) as raw_handle:
            text = io.TextIOWrapper(raw_handle, encoding="utf-8", errors="replace", newline="")
            header = next(csv.reader([text.readline()]), [])
            try:
                positions = map_header(header)
            except IngestError as exc:
                lines = sum(1 for _ in text) + 1
                reason = f"whole file rejected ({lines - 1} data lines): {exc}"
                bad, buffer = {1: (reason, ",".join(header))}, io.StringIO()
            else:
                buffer, bad, lines = split_rows(text, positions, len(header))
        cur.execute(_LANDING_TABLE)
        cur.copy_expert("COPY landing_orders FROM STDIN WITH (FORMAT csv)", buffer)
        params = {"source": SOURCE, "file_path": shown, "file_sha256": sha, "loaded_at": loaded_at}
        bad_quarantined = bad_suppressed = 0
        if bad:
            cur.execute(
                compile_reader_quarantine(_REJECTED_ROWS, suppression=suppression),
                {
                    **params,
                    "bad_lines": list(bad),
                    "bad_reasons": [reason for reason, _ in bad.values()],
                    "bad_records": [record for _, record in bad.values()],
                },
            )
            bad_quarantined, bad_suppressed = cur.fetchone()
        cur.execute(compile_orders_load(suppression=suppression), params)
        records, valid, inserted, quarantined, suppressed, do_not_track = cur.fetchone()
        result = FileLoad(
            path=shown,
            sha256=sha,
            skipped=False,
            lines=lines,
            records=records + len(bad),
            inserted=inserted,
            duplicates=valid - inserted,
            quarantined=quarantined + bad_quarantined,
            suppressed=suppressed + bad_suppressed,
            do_not_track=do_not_track,
        )
        record_ledger(cur, SOURCE, path, shown, sha, result, loaded_at)
    conn.commit()
    return replace(result, seconds=time.perf_counter() - started)
