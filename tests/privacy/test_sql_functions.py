"""The SQL helpers shared by erasure and ingest agree with the Python side."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from audience_dagster.identity.normalize import normalize_phones
from audience_dagster.privacy.identifiers import text_search_pattern
from audience_dagster.warehouse.connection import connection

pytestmark = pytest.mark.integration

PHONES = [
    "(415) 555-0123",
    "+44 20 7946 0958",
    "14155550123",
    "4155550123",
    "555-0123",
    "+1 (415) 555.0123",
    "phone: 415",
    "+123",
    "",
    "24155550123",
]


def values(url: str, sql: str, params: dict) -> list:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall()]


def test_phone_normalisation_matches_identity_resolution(raw_only: str) -> None:
    got = values(raw_only, "SELECT privacy.normalize_phone(p) FROM unnest(%(p)s::text[]) AS p", {"p": PHONES})
    expected = normalize_phones(pd.Series(PHONES)).tolist()
    assert got == [None if pd.isna(e) else e for e in expected]


def test_identifier_hash_is_sha256_of_the_normalised_utf8_value(raw_only: str) -> None:
    cases = [
        ("email", " Jane.Doe@Mail.COM ", "jane.doe@mail.com"),
        ("user_id", " U_1 ", "U_1"),
        ("social_handle", "Instagram:Jane", "instagram:jane"),
        ("email", "zoë@mail.com", "zoë@mail.com"),
    ]
    got = values(
        raw_only,
        "SELECT encode(privacy.identifier_sha256(t, v), 'hex') FROM unnest(%(t)s::text[], %(v)s::text[]) AS i (t, v)",
        {"t": [c[0] for c in cases], "v": [c[1] for c in cases]},
    )
    assert got == [hashlib.sha256(c[2].encode()).hexdigest() for c in cases]
    assert values(raw_only, "SELECT privacy.identifier_sha256('email', %(v)s)", {"v": "  "}) == [None]


def test_refuses_every_category(raw_only: str) -> None:
    cases = ['{"a": false, "b": "false", "c": 0}', '{"a": false, "b": true}', "{}", '"no"', "null"]
    got = values(
        raw_only, "SELECT privacy.refuses_every_category(c::jsonb) FROM unnest(%(c)s::text[]) AS c", {"c": cases}
    )
    assert got == [True, False, False, False, False]


def test_text_pattern_is_a_valid_postgresql_regex_with_the_same_boundaries(raw_only: str) -> None:
    pattern = text_search_pattern(["jane@x.com", "@jane.d", "+14155550123"])
    texts = ['{"e":"jane@x.com"}', "mary.jane@x.com", "@jane.doe", 'x,"@jane.d"', "tel +14155550123;"]
    got = values(raw_only, "SELECT t ~ %(p)s FROM unnest(%(t)s::text[]) AS t", {"p": pattern, "t": texts})
    assert got == [True, False, False, True, True]
