"""Erasure on the real embedded PostgreSQL: every table checked directly, before and after."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from audience_dagster.cli import main
from audience_dagster.privacy import Lookup, PersonNotFoundError, PrivacyError, erase_person
from audience_dagster.warehouse.connection import connection
from tests.privacy.conftest import (
    JANE,
    JANE_IDS,
    JANE_OLD,
    MARY,
    SCENARIO_TABLES,
    Scenario,
    load_all,
    mentions_jane,
    table_rows,
)

pytestmark = pytest.mark.integration


def erase(url: str, lookup: Lookup, **kwargs):
    with connection(url) as conn:
        return erase_person(conn, lookup, **kwargs)


def one(url: str, sql: str, params: tuple = ()) -> object:
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def test_erasure_removes_exactly_the_persons_rows_from_every_table(scenario: Scenario) -> None:
    before = {table: table_rows(scenario.url, table) for table in SCENARIO_TABLES}
    assert all(any(mentions_jane(r) for r in rows) for rows in before.values()), "scenario: Jane in every table"

    result = erase(scenario.url, Lookup("email", "  JANE.Doe@mail.com "))

    after = {table: table_rows(scenario.url, table) for table in SCENARIO_TABLES}
    special = ("identity.profiles", "identity.profile_merges")
    for table in SCENARIO_TABLES:
        if table not in special:
            # nothing about Jane is left, and everything else (Mary, the tablet, junk) is untouched
            assert after[table] == [r for r in before[table] if not mentions_jane(r)], table
            assert result.rows_deleted.get(table, 0) == sum(map(mentions_jane, before[table])), table
    # the registry keeps Jane's two ids, marked erased, with nothing else about her
    with connection(scenario.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT profile_id::text, status FROM identity.profiles ORDER BY 1")
        statuses = dict(cur.fetchall())
        cur.execute("SELECT retired_profile_id::text, evidence FROM identity.profile_merges ORDER BY merge_id")
        merges = cur.fetchall()
    assert statuses[JANE] == statuses[JANE_OLD] == "erased"
    assert statuses[MARY] == "active"
    # Jane's own merge is gone; another merge's evidence that mentioned her is scrubbed
    assert [m[0] for m in merges] == ["22222222-2222-4222-8222-000000000000", "44444444-4444-4444-8444-444444444444"]
    assert merges[0][1] == {"email": "mary.jane.doe@mail.com"}
    assert merges[1][1] == {"scrubbed": "erasure"}
    # activation's destination members are marked, not deleted (their removal is sent downstream)
    assert result.rows_updated == {
        "identity.profile_merges": 1,
        "identity.profiles": 2,
        "activation.destination_members": 0,
    }
    assert (result.outcome, result.resolved_via, result.profiles) == ("erased", "identity_map", 2)
    assert "marts.segment_membership" not in result.skipped_tables  # erased like every other table


def test_suppression_list_and_request_log_hold_hashes_and_counts_only(scenario: Scenario) -> None:
    result = erase(scenario.url, Lookup("email", "jane.doe@mail.com"))
    with connection(scenario.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT identifier_type, encode(value_sha256, 'hex') FROM privacy.suppressed_identifiers")
        suppressed = set(cur.fetchall())
        cur.execute("SELECT to_jsonb(r)::text FROM privacy.erasure_requests AS r")
        (request,) = [r[0] for r in cur.fetchall()]
    # sha256 of the normalised value (emails trimmed and lower-cased, phones E.164)
    assert suppressed == {(kind, hashlib.sha256(value.encode()).hexdigest()) for kind, value in JANE_IDS}
    assert result.identifiers_suppressed["anonymous_id"] == 2 and sum(result.identifiers_suppressed.values()) == 10
    assert not mentions_jane(request) and "jane" not in request.lower()
    assert result.request_id in request and '"raw.segment_messages": 7' in request


def test_reingesting_the_same_records_does_not_recreate_the_person(scenario: Scenario, tmp_path: Path) -> None:
    erase(scenario.url, Lookup("user_id", "u_jane_000001"))
    before = {table: table_rows(scenario.url, table) for table in SCENARIO_TABLES if table.startswith("raw.")}
    # a new copy of every file (one more blank line: another content hash, so the ledger loads it)
    again = tmp_path / "again"
    shutil.copytree(scenario.landing, again)
    for path in again.rglob("*.*"):
        path.write_text(path.read_text() + "\n")
    loads = load_all(scenario.url, again)

    assert not any(load.skipped for load in loads)
    by_source = {Path(load.path).parent.name: load for load in loads}
    for source, count in scenario.jane_records.items():
        assert by_source[source].suppressed == count, source
    assert sum(load.inserted for load in loads) == 0  # Mary's records are all duplicates now
    # Mary's malformed record was quarantined before (the same text): not again; Jane's two are not
    assert sum(load.quarantined for load in loads) == 0
    assert sum(load.already_quarantined for load in loads) == 1
    for table, rows in before.items():
        now = table_rows(scenario.url, table)
        assert not any(map(mentions_jane, now)), table
        assert now == rows, table
    # the first load suppressed nothing: the ledger's count is the second one's
    assert one(scenario.url, "SELECT sum(suppressed) FROM raw.loaded_files") == sum(scenario.jane_records.values())


def test_a_retired_profile_id_resolves_to_the_same_person(scenario: Scenario) -> None:
    by_email = erase(scenario.url, Lookup("email", "jane.doe@mail.com"), dry_run=True)
    by_old_id = erase(scenario.url, Lookup("profile_id", JANE_OLD), dry_run=True)
    assert by_old_id.resolved_via == "profile_registry"
    assert (by_old_id.rows_deleted, by_old_id.profiles) == (by_email.rows_deleted, by_email.profiles)
    # a dry run changes nothing
    assert one(scenario.url, "SELECT count(*) FROM privacy.suppressed_identifiers") == 0
    assert one(scenario.url, "SELECT count(*) FROM raw.segment_messages WHERE user_id = 'u_jane_000001'") == 4


def test_erasing_twice_is_idempotent(scenario: Scenario) -> None:
    first = erase(scenario.url, Lookup("email", "jane.doe@mail.com"))
    rows = {table: table_rows(scenario.url, table) for table in SCENARIO_TABLES}
    second = erase(scenario.url, Lookup("email", "jane.doe@mail.com"))
    by_id = erase(scenario.url, Lookup("profile_id", JANE))
    assert first.outcome == "erased" and first.total_deleted > 0
    assert (second.outcome, second.resolved_via, second.total_deleted) == ("already_erased", "suppression", 0)
    assert (by_id.outcome, by_id.total_deleted, sum(by_id.rows_updated.values())) == ("already_erased", 0, 0)
    assert {table: table_rows(scenario.url, table) for table in SCENARIO_TABLES} == rows
    assert one(scenario.url, "SELECT count(*) FROM privacy.erasure_requests") == 3
    assert one(scenario.url, "SELECT count(*) FROM privacy.suppressed_identifiers") == len(JANE_IDS)


def test_unknown_people_and_junk_identifiers_are_clear_errors(scenario: Scenario, capsys) -> None:
    with pytest.raises(PersonNotFoundError, match="nothing is held about email 'jane.doe@mail.co'"):
        erase(scenario.url, Lookup("email", "jane.doe@mail.co"))
    with pytest.raises(PersonNotFoundError):
        erase(scenario.url, Lookup("profile_id", "99999999-9999-4999-8999-999999999999"))
    with pytest.raises(PrivacyError, match="blocked junk identifier"):
        erase(scenario.url, Lookup("user_id", "null"))
    with pytest.raises(PrivacyError, match="shared by several people"):
        erase(scenario.url, Lookup("anonymous_id", "anon-family-0001"))
    with pytest.raises(PrivacyError, match="unknown identifier type 'mail'"):
        Lookup.parse("mail:jane.doe@mail.com")
    assert main(["privacy", "erase", "--email", "nobody@mail.com"]) == 2
    assert "nothing is held about email 'nobody@mail.com'" in capsys.readouterr().err
    assert one(scenario.url, "SELECT count(*) FROM privacy.erasure_requests") == 0  # nothing recorded
    assert one(scenario.url, "SELECT count(*) FROM raw.segment_messages") == 12


def test_cli_erase_prints_counts_and_no_personal_data(scenario: Scenario, capsys) -> None:
    assert main(["privacy", "erase", "--identifier", "social_handle:Instagram:Jane.Doe"]) == 0
    out, err = capsys.readouterr()
    assert "outcome=erased" in out and "resolved_via=identity_map" in out and "profiles=2" in out
    assert "raw.segment_messages" in err and not mentions_jane(out + err)
    assert one(scenario.url, "SELECT count(*) FROM marts.audience_profile_base") == 1


def test_before_identity_resolution_only_the_named_identifier_is_erased(raw_only: str, tmp_path: Path) -> None:
    from tests.privacy.conftest import write_landing

    write_landing(tmp_path / "landing")
    load_all(raw_only, tmp_path / "landing")
    result = erase(raw_only, Lookup("email", "jane.doe@mail.com"))  # identity's tables exist, empty
    assert result.resolved_via == "records" and result.profiles == 0
    assert "identity.identity_map" not in result.skipped_tables and "marts.audience_events" in result.skipped_tables
    # rows naming the email go (identify, the form, email events, the order, the CSV row, the
    # quarantined lines); rows naming only her other ids stay: run identity resolution first
    identity = {table: rows for table, rows in result.rows_deleted.items() if table.startswith("identity.")}
    assert "identity.identity_map" in identity and set(identity.values()) == {0}
    assert {table: rows for table, rows in result.rows_deleted.items() if table not in identity} == {
        "raw.segment_messages": 2,
        "raw.sendgrid_events": 2,
        "raw.shopify_orders": 1,
        "raw.social_events": 0,
        "raw.historical_orders": 1,
        "raw.quarantine": 2,
        "activation.dead_letters": 0,  # bootstrap creates it; its payloads are searched for the email
    }
    assert one(raw_only, "SELECT count(*) FROM raw.quarantine WHERE record LIKE '%%mary.jane.doe%%'") == 1
    # junk values are refused even without an identity map to say they are blocked
    with pytest.raises(PrivacyError, match="blocked junk identifier"):
        erase(raw_only, Lookup("user_id", "null"))
    with pytest.raises(PrivacyError, match="blocked junk identifier"):
        erase(raw_only, Lookup("email", "test@example.com"))
