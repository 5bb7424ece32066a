"""Erasure on the real pipeline: erase a person, re-ingest their data, rebuild — they stay gone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from audience_dagster.privacy.erasure import erase_person
from audience_dagster.privacy.identifiers import Lookup
from audience_dagster.runtime import prepare_runtime
from audience_dagster.warehouse.connection import bootstrap, connection
from tests.integration.test_marts import ADA_EMAIL, refresh, rows, write_landing

PERSON_TABLES = {
    "raw.segment_messages": "payload::text ILIKE %s",
    "raw.sendgrid_events": "payload::text ILIKE %s",
    "raw.shopify_orders": "payload::text ILIKE %s",
    "identity.identity_map": "identifier_value ILIKE %s",
    "intermediate.int_identity_edges": "left_value ILIKE %s OR right_value ILIKE %s",
    "intermediate.int_identity_identifiers": "identifier_value ILIKE %s",
    "intermediate.int_events_checkpoint_identifiers": "identifier_value ILIKE %s",
    "marts.audience_profiles": "email ILIKE %s",
}


@pytest.fixture()
def erased(warehouse_url: str) -> Iterator[tuple[str, str]]:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "marts", "privacy"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    landing = Path(os.environ["AUDIENCE_LANDING_DIR"])
    shutil.rmtree(landing, ignore_errors=True)
    write_landing(landing)
    prepare_runtime()
    assert refresh().success
    [(profile_id,)] = rows(warehouse_url, "SELECT id::text FROM marts.audience_profiles WHERE email = %s", (ADA_EMAIL,))
    with connection(warehouse_url) as conn:
        erase_person(conn, Lookup("email", ADA_EMAIL.upper()))
    yield warehouse_url, profile_id


def mentions(url: str) -> dict[str, int]:
    found = {}
    for table, where in PERSON_TABLES.items():
        args = tuple("%ada%" for _ in range(where.count("%s")))
        [(n,)] = rows(url, f"SELECT count(*) FROM {table} WHERE {where}", args)
        found[table] = n
    return found


def test_erased_person_is_gone_and_reingesting_their_data_does_not_bring_them_back(erased) -> None:
    url, profile_id = erased
    assert set(mentions(url).values()) == {0}
    assert rows(url, "SELECT count(*) FROM marts.audience_events WHERE profile_id = %s", (profile_id,)) == [(0,)]
    assert rows(url, "SELECT status FROM identity.profiles WHERE profile_id = %s", (profile_id,)) == [("erased",)]
    # the same files arrive again (a changed copy, so the ledger loads them as new content)
    landing = Path(os.environ["AUDIENCE_LANDING_DIR"])
    for path in sorted(landing.rglob("*.*")):
        copy = path.with_name("again-" + path.name)
        copy.write_bytes(path.read_bytes() + (b"\n" if path.suffix != ".csv" else b""))
    assert refresh().success
    assert set(mentions(url).values()) == {0}
    [(suppressed,)] = rows(url, "SELECT sum(suppressed) FROM raw.loaded_files WHERE file_path LIKE %s", ("%again-%",))
    assert suppressed > 0
    # other people are untouched
    assert rows(url, "SELECT count(*) FROM marts.audience_profiles WHERE email = 'cy@lovelace.dev'") == [(1,)]
