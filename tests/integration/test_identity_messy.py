"""The adversarial identity sample end to end on the real PostgreSQL: ingest, the dbt models that
build the identity graph, the identity rebuild, and the evaluation against the truth (with the
honest ceiling from the raw records)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audience_dagster.bench.eval_identity import evaluate_identity
from audience_dagster.bench.identity import DOWNSTREAM_MODELS, dbt_run
from audience_dagster.bench.ingest import ingest_sample
from audience_dagster.identity.identity_map import resolve_warehouse_identities
from audience_dagster.sample_data.messy import generate_messy
from audience_dagster.warehouse.connection import bootstrap, connection

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def messy(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    with connection(warehouse_url) as conn, conn.cursor() as cur:
        for schema in ("raw", "staging", "intermediate", "identity", "marts"):
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    bootstrap(warehouse_url)
    empty_raw = warehouse_url
    out = tmp_path_factory.mktemp("messy")
    generate_messy(out, seed=3, people=120, chain_hops=2_000)
    ingest_sample(empty_raw, out / "landing", workers=1)
    dbt_run(empty_raw, "fqn:*", exclude=DOWNSTREAM_MODELS)
    with connection(empty_raw) as conn:
        resolve_warehouse_identities(conn)
    return empty_raw, out


def query(url: str, sql: str) -> list[tuple]:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_adversarial_sample_merges_no_strangers_and_finds_the_proven_links(messy) -> None:
    _, sample = messy
    figures = evaluate_identity(sample)
    assert figures["precision"] == 1.0
    assert figures["recall_provable"] >= 0.99
    assert figures["recall_ceiling"] < 1.0  # the second accounts are not provable: only fuzzy matching finds them


def test_a_2000_hop_user_id_alias_chain_is_one_profile(messy) -> None:
    url, _ = messy
    ((profiles, ids),) = query(
        url,
        "SELECT count(DISTINCT profile_id), count(*) FROM identity.identity_map"
        " WHERE identifier_type = 'user_id' AND identifier_value LIKE '%-hop%'",
    )
    assert ids == 2_000 and profiles == 1


def test_junk_shared_and_invalid_values_are_listed_with_why(messy) -> None:
    url, _ = messy
    rows = dict(
        ((kind, value), (reason, people))
        for kind, value, reason, people in query(
            url, "SELECT identifier_type, identifier_value, reason, people FROM identity.blocked_identifiers"
        )
    )
    assert rows[("user_id", "guest")][0] == "junk_list:value"
    assert rows[("email_provider_id", "c-000123")][0] == "shared_value"
    assert rows[("phone", "+14155552671")] == ("shared_value", 10)
    assert rows[("email", "orders@harborandpine-store.com")][0] == "shared_value"
    assert any(reason.startswith("invalid_phone") for reason, _ in rows.values())
    # no junk or shared value holds a profile
    assert query(url, "SELECT count(*) FROM identity.identity_map WHERE blocked AND profile_id IS NOT NULL") == [(0,)]


def test_over_limit_links_become_suggestions(messy) -> None:
    url, _ = messy
    kinds = query(url, "SELECT kind, count(*) FROM identity.duplicate_suggestions GROUP BY 1")
    assert dict(kinds).get("over_limit", 0) >= 1


def test_suggestions_are_listed_accepted_and_re_applied_by_every_rebuild(messy, capsys) -> None:
    from audience_dagster.cli import main

    url, _ = messy
    ((suggestion, a, b),) = query(
        url,
        "SELECT suggestion_id, profile_id_a::text, profile_id_b::text FROM identity.duplicate_suggestions"
        " WHERE kind = 'over_limit' AND status = 'open' ORDER BY suggestion_id LIMIT 1",
    )
    assert main(["identity", "suggestions"]) == 0
    assert f"{suggestion:>6} over_limit" in capsys.readouterr().out
    assert main(["identity", "suggestions", "accept", str(suggestion), "--reason", "same person", "--by", "test"]) == 0
    with connection(url) as conn:
        resolve_warehouse_identities(conn)
    current = query(
        url, f"SELECT DISTINCT current_profile_id::text FROM identity.profiles WHERE profile_id IN ('{a}', '{b}')"
    )
    assert len(current) == 1
    assert query(url, f"SELECT status FROM identity.duplicate_suggestions WHERE suggestion_id = {suggestion}") == [
        ("accepted",)
    ]
    assert main(["identity", "suggestions", "accept", str(suggestion)]) == 2  # already decided: a clear error
    assert "already accepted" in capsys.readouterr().err


def test_fuzzy_suggestions_find_the_unlinked_second_accounts(messy) -> None:
    from audience_dagster.bench.eval_duplicates import evaluate_sample_suggestions
    from audience_dagster.identity.suggestions import suggest_fuzzy_duplicates

    url, sample = messy
    dbt_run(url, DOWNSTREAM_MODELS, exclude="path:models/marts/reports")
    with connection(url) as conn:
        figures = suggest_fuzzy_duplicates(conn, 0.9)
    assert figures["suggestions"] >= 12
    scores = evaluate_sample_suggestions(sample)
    assert scores["precision"] == 1.0 and scores["correct"] >= 12
