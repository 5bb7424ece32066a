"""Property-based ingestion tests (hypothesis): arbitrary JSON values in every field and arbitrary
bytes in every line, for every source. Each example is a batch of records written to one file and
loaded once (one statement per file, as in production), and every load must:

* never raise, and reject no plain file (only unreadable files are rejected);
* account for every line: lines = landed + duplicates + quarantined + already quarantined +
  not stored by design (do-not-track, suppressed) + not records (blank lines, a CSV header);
* agree with the tables: the ledger's counts are the rows the raw table and the quarantine hold.

The batches accumulate in one database; the last test builds the staging models and runs their
dbt tests over everything that landed: nothing ingestion accepted may fail an error-severity test.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audience_dagster.config import DBT_PROJECT_DIR
from audience_dagster.ingest.historical_orders import load_orders_csv
from audience_dagster.ingest.loader import FileLoad, load_directory, load_source
from audience_dagster.ingest.sources import SEGMENT, SENDGRID, SHOPIFY, SOCIAL, Source
from audience_dagster.warehouse.connection import bootstrap, connection, dbt_env

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
BATCHES = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
_counter = itertools.count()

# --- values -----------------------------------------------------------------------------------

ODD_TIMES = st.sampled_from(
    ["2026-03-01T10:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "4713-01-01 BC", "allballs",
     "2026-03-01 allballs", "2026-03-01T12:00:60Z", "now", "", " ", "1/2/26", "2026-02-30", "2099-01-01"]
)  # fmt: skip
ODD_NUMBERS = st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 10**30, -(10**19), 2**63, 0.5, "1e3", "NaN", "-5.00"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | ODD_TIMES
    | ODD_NUMBERS
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
# raw JSON text jsonb cannot hold, or that no JSON parser should recurse into
RAW_FRAGMENTS = st.sampled_from(
    ["1e999999", "-1e999999", '"\\ud800"', '"\\udc00 x"', '"a\\u0000b"', "[" * 12_000 + "]" * 12_000, "1E-400"]
)


def field(value: object) -> st.SearchStrategy[object]:
    """Mostly the template's (valid) value, sometimes any JSON value, sometimes dropped (...)."""
    valid = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.integers(0, 9).flatmap(lambda i: valid if i < 7 else JSON_VALUES if i < 9 else st.just(...))


def record(template: dict) -> st.SearchStrategy[dict]:
    """The template with each field kept, replaced by any JSON value, or dropped — plus extras."""
    fields = {key: field(value) for key, value in template.items()}
    return st.fixed_dictionaries(fields, optional={"extra": JSON_VALUES}).map(
        lambda r: {k: v for k, v in r.items() if v is not ...}
    )


def lines(template: dict) -> st.SearchStrategy[list[bytes]]:
    """A batch of lines: records, records holding a raw fragment, arbitrary bytes, blank lines."""
    as_json = record(template).map(lambda r: json.dumps(r).encode())
    with_fragment = st.tuples(record(template), RAW_FRAGMENTS).map(
        lambda rf: json.dumps({**rf[0], "x": "@@"}).replace('"@@"', rf[1]).encode()
    )
    junk = st.binary(max_size=120).map(lambda b: b.replace(b"\n", b" "))
    line = st.integers(0, 19).flatmap(
        lambda i: as_json if i < 15 else with_fragment if i < 17 else junk if i < 19 else st.just(b"   ")
    )
    return st.lists(line, min_size=10, max_size=40)


WHEN = "2026-03-01T10:00:00Z"
KEY = st.uuids().map(str)
BIG_ID = st.integers(1, 2**62)
LINE_ITEM = (
    st.fixed_dictionaries({"id": BIG_ID, "quantity": st.integers(-1, 5), "price": st.just("9.00")})
    .flatmap(lambda item: st.fixed_dictionaries({k: field(v) for k, v in item.items()}))
    .map(lambda item: {k: v for k, v in item.items() if v is not ...})
)
TEMPLATES: dict[str, dict] = {
    "segment": {
        "type": st.sampled_from(["track", "page", "screen", "identify", "alias", "group"]), "messageId": KEY,
        "anonymousId": "a", "userId": "u", "event": "E", "previousId": "p",
        "groupId": "g", "name": "n", "properties": {"order_id": "1"}, "traits": {"email": "e@x.org"},
        "context": {"device": {"id": "d"}, "doNotTrack": False}, "timestamp": WHEN, "sentAt": WHEN,
        "receivedAt": WHEN,
    },
    "sendgrid": {"sg_event_id": KEY, "event": "open", "email": "a@b.org", "timestamp": 1772359200, "contact_id": "c"},
    "shopify": {
        "id": BIG_ID, "created_at": WHEN, "currency": "EUR", "total_price": "10.00", "total_tax": "1.00",
        "subtotal_price": "9.00", "total_discounts": "0.00", "email": "a@b.org",
        "customer": {"id": 9100000000001, "email": "c@b.org", "first_name": "Ann"},
        "line_items": st.lists(LINE_ITEM, max_size=3),
    },
    "social": {"event_id": KEY, "platform": "x", "action": "like", "handle": "@a", "occurred_at": WHEN,
               "email": "a@b.org"},
}  # fmt: skip
SOURCES: dict[str, Source] = {"segment": SEGMENT, "sendgrid": SENDGRID, "shopify": SHOPIFY, "social": SOCIAL}
CSV_FIELD = st.one_of(
    st.text(max_size=12), ODD_TIMES, st.sampled_from(["12.50", '"$1,234.50"', "-3", "999999999999.999", "1e999999"])
)
CSV_ROW = st.fixed_dictionaries(
    {
        "order_id": field(KEY),
        "customer_id": field("c1"),
        "email": field("a@b.org"),
        "order_date": field("2025-06-01"),
        "amount": field("12.50"),
        "currency": field("USD"),
    }
).map(lambda r: ",".join(v if isinstance(v, str) else json.dumps(v) for v in r.values() if v is not ...).encode())
CSV_LINES = st.lists(
    st.integers(0, 9).flatmap(
        lambda i: (
            CSV_ROW
            if i < 6
            else st.lists(CSV_FIELD, max_size=8).map(lambda fs: ",".join(fs).encode())
            if i < 8
            else st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" "))
        )
    ),
    min_size=10,
    max_size=40,
)

# --- loading and accounting ---------------------------------------------------------------------

TABLES = {**{name: s.table for name, s in SOURCES.items()}, "historical_orders": "raw.historical_orders"}


@pytest.fixture(scope="module")
def property_db(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    return warehouse_url, tmp_path_factory.mktemp("property_batches")


def write_batch(root: Path, source: str, batch: list[bytes], header: bytes | None = None) -> Path:
    folder = root / f"batch{next(_counter)}"
    (folder / source).mkdir(parents=True)
    suffix = "csv" if header is not None else "jsonl"
    (folder / source / f"b.{suffix}").write_bytes(b"\n".join([header, *batch] if header else batch) + b"\n")
    return folder


def check_accounting(url: str, source: str, loads: list[FileLoad]) -> None:
    for load in loads:
        assert load.rejected is None, load.rejected
        if load.skipped:  # hypothesis produced the same batch twice: already loaded
            continue
        assert load.accounted == load.lines, load
        with connection(url) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {TABLES[source]} WHERE file_sha256 = %s", (load.sha256,))
            assert cur.fetchone()[0] == load.inserted
            cur.execute("SELECT count(*) FROM raw.quarantine WHERE file_sha256 = %s", (load.sha256,))
            assert cur.fetchone()[0] == load.quarantined


@pytest.mark.parametrize("source", list(SOURCES))
def test_any_json_in_any_field_lands_or_is_quarantined(property_db: tuple[str, Path], source: str) -> None:
    url, root = property_db

    @BATCHES
    @given(batch=lines(TEMPLATES[source]))
    def load_batch(batch: list[bytes]) -> None:
        folder = write_batch(root, source, batch)
        report = load_source(url, SOURCES[source], folder, future_tolerance=DAY, workers=1)
        assert len(report.files) == 1
        check_accounting(url, source, report.files)

    load_batch()


def test_any_csv_row_lands_or_is_quarantined(property_db: tuple[str, Path]) -> None:
    url, root = property_db
    header = b"order_id,customer_id,email,order_date,amount,currency"

    @BATCHES
    @given(batch=CSV_LINES)
    def load_batch(batch: list[bytes]) -> None:
        folder = write_batch(root, "historical_orders", batch, header=header)
        loader = partial(load_orders_csv, future_tolerance=DAY)
        report = load_directory(url, "historical_orders", folder / "historical_orders", "csv", loader)
        check_accounting(url, "historical_orders", report.files)

    load_batch()


def test_nothing_that_landed_fails_a_staging_test(property_db: tuple[str, Path], tmp_path: Path) -> None:
    """dbt build of the staging models over every batch above: every error-severity test passes."""
    url, _ = property_db
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM raw.segment_messages) + (SELECT count(*) FROM raw.shopify_orders)")
        assert cur.fetchone()[0] > 0  # the batches landed something to test
    env = {**os.environ, **dbt_env(url)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        ["dbt", "build", "--select", "path:models/staging", "--exclude", "path:models/staging/identity",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
