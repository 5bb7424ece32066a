"""Pure parts of privacy: lookups, parameters, text patterns and compiled predicates."""

from __future__ import annotations

import re

import pytest

from audience_dagster.ingest.historical_orders import IDENTIFIERS as ORDER_IDENTIFIERS
from audience_dagster.ingest.sources import JSON_SOURCES
from audience_dagster.privacy.erasure import compile_erasure
from audience_dagster.privacy.identifiers import (
    IDENTIFIER_TYPES,
    Lookup,
    PrivacyError,
    identifier_params,
    profile_id_params,
    text_search_pattern,
    text_search_values,
)
from audience_dagster.privacy.registry import PERSONAL_TABLES, PersonalTable, TypedPair, column, compile_predicates
from audience_dagster.privacy.resolve import Person

U1 = "11111111-1111-4111-8111-111111111111"


def test_lookup_parsing() -> None:
    assert Lookup.parse("social_handle:instagram:jane") == Lookup("social_handle", "instagram:jane")
    assert Lookup.parse("email:a@b.com").is_profile is False
    assert Lookup("profile_id", U1).is_profile
    with pytest.raises(PrivacyError, match="must be type:value"):
        Lookup.parse("jane@b.com")
    with pytest.raises(PrivacyError, match="empty email"):
        Lookup("email", "  ")


def test_parameters_split_profile_ids_by_type_and_identifiers_by_kind() -> None:
    upper = "AAAAAAAA-1111-4111-8111-111111111111"
    assert profile_id_params([upper, "17", "not-an-id"]) == {
        "profile_ids_uuid": [upper.lower()],
        "profile_ids_int8": [17],
        "profile_ids_text": ["17", upper, "not-an-id"],
    }
    params = identifier_params([("email", "a@b.com"), ("user_id", "u1"), ("email", "a@b.com")])
    assert (params["ids_email"], params["ids_user_id"], params["ids_phone"]) == (["a@b.com"], ["u1"], [])
    assert (params["id_types"], params["id_values"]) == (["email", "user_id"], ["a@b.com", "u1"])


def test_text_pattern_matches_whole_identifiers_only() -> None:
    values = text_search_values(
        [("email", "jane@x.com"), ("social_handle", "instagram:jane.d"), ("shopify_customer_id", "c7")]
    )
    assert values == ["@jane.d", "jane@x.com"]  # the short customer id is not searched in text
    pattern = re.compile(text_search_pattern(values))
    assert pattern.search('{"email":"jane@x.com"}')
    assert pattern.search("1001,c7,jane@x.com,2025-01-02")
    assert pattern.search('{"handle":"@jane.d"}')
    assert not pattern.search('{"email":"mary.jane@x.com"}')
    assert not pattern.search('{"email":"jane@x.com.au"}')
    assert not pattern.search('{"handle":"@jane.doe"}')
    assert text_search_pattern([]) is None


def test_predicates_use_only_existing_columns_and_the_persons_identifier_types() -> None:
    spec = PersonalTable(
        "s.t",
        "records",
        profile_columns=("profile_id", "missing"),
        locators=(column("email", "email"), column("user_id", "user_id")),
        typed_pairs=(TypedPair("kind", "value", normalised=True),),
        text_columns=("note",),
    )
    where = compile_predicates(
        spec,
        {"profile_id": "uuid", "email": "text", "kind": "text", "value": "text", "note": "jsonb"},
        {"email"},
        profile_id_types=["uuid", "text"],
        text_search=True,
    )
    assert where.identity == (
        "profile_id = ANY(%(profile_ids_uuid)s::uuid[])"
        " OR privacy.normalize_identifier('email', email) = ANY(%(ids_email)s::text[])"
        " OR (kind, value) IN (SELECT * FROM unnest(%(id_types)s::text[], %(id_values)s::text[]))"
    )
    assert where.text == "lower(note::text) ~ %(text_pattern)s"
    assert compile_predicates(spec, {"user_id": "text"}, {"email"}).any is None


def test_erasure_statements_per_kind_of_table() -> None:
    person = Person(Lookup("email", "a@b.com"), (U1,), (("email", "a@b.com"),), "identity_map")
    by_table = {spec.table: spec for spec in PERSONAL_TABLES}
    merges = compile_erasure(
        by_table["identity.profile_merges"],
        person,
        {"retired_profile_id": "uuid", "survivor_profile_id": "uuid", "evidence": "jsonb"},
    )
    assert [kind for kind, _ in merges] == ["deleted", "updated"]
    assert merges[1][1].startswith("UPDATE identity.profile_merges SET evidence = jsonb_build_object")
    (registry,) = compile_erasure(by_table["identity.profiles"], person, {"profile_id": "uuid"})
    assert registry[1].startswith("UPDATE identity.profiles SET status = 'erased'")
    (quarantine,) = compile_erasure(by_table["raw.quarantine"], person, {"record": "text"})
    assert quarantine == ("deleted", "DELETE FROM raw.quarantine WHERE (lower(record::text) ~ %(text_pattern)s)")


def test_registry_knows_every_identifier_ingest_suppresses() -> None:
    tables = {spec.table: spec for spec in PERSONAL_TABLES}
    assert len(tables) == len(PERSONAL_TABLES)
    assert {loc.identifier_type for spec in PERSONAL_TABLES for loc in spec.locators} <= set(IDENTIFIER_TYPES)
    for table, identifiers in [(s.table, s.identifiers) for s in JSON_SOURCES] + [
        ("raw.historical_orders", ORDER_IDENTIFIERS)
    ]:
        assert {kind for kind, _ in identifiers} <= {loc.identifier_type for loc in tables[table].locators}, table
