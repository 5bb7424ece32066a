"""Data-subject export: the person's rows from every table, and only theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audience_dagster.cli import main
from audience_dagster.privacy import Lookup, PersonNotFoundError, erase_person, export_person
from audience_dagster.warehouse.connection import connection
from tests.privacy.conftest import JANE, JANE_OLD, MARY_IDS, Scenario, mentions_jane

pytestmark = pytest.mark.integration
SECTIONS = ("profile", "identifiers", "events", "records", "merge_history", "manual_operations", "identity_links")


def export(url: str, lookup: Lookup) -> dict:
    with connection(url) as conn:
        return export_person(conn, lookup)


def tables_of(document: dict) -> dict[str, list]:
    return {table: rows for section in SECTIONS for table, rows in document.get(section, {}).items()}


def test_export_holds_every_row_erasure_would_touch_and_nothing_else(scenario: Scenario) -> None:
    document = export(scenario.url, Lookup("email", "Jane.Doe@mail.com"))
    with connection(scenario.url) as conn:
        plan = erase_person(conn, Lookup("email", "jane.doe@mail.com"), dry_run=True)
    exported = tables_of(document)
    touched = {t: plan.rows_deleted.get(t, 0) + plan.rows_updated.get(t, 0) for t in exported}
    assert {t: len(rows) for t, rows in exported.items()} == touched
    for table, rows in exported.items():
        assert rows, table
        assert all(mentions_jane(json.dumps(row)) for row in rows), table
    assert sorted(document["profile_ids"]) == sorted([JANE, JANE_OLD])
    identifiers = document["identifiers"]["identity.identity_map"]
    assert {(r["identifier_type"], r["blocked"], r["shared_device"]) for r in identifiers} >= {("email", False, False)}
    assert document["consent"]["profile_flags"] == [
        {"gdpr_consent": False, "gdpr_consent_date": None, "do_not_track": True}
    ]
    (update,) = document["consent"]["updates"]
    assert update["refuses_every_category"] and update["message_id"] == "j5"
    assert document["consent"]["do_not_track_by_latest_update"] is True
    assert document["suppression"] == {"suppressed": False, "identifier_types": {}}
    assert "marts.segment_membership" not in document["skipped_tables"]


def test_another_persons_export_holds_only_their_rows(scenario: Scenario) -> None:
    document = export(scenario.url, Lookup("user_id", "u_mary_000001"))
    tokens = [value.lower() for _, value in MARY_IDS if ":" not in value] + ["mary.jane.doe", "2222"]
    for table, rows in tables_of(document).items():
        for row in rows:
            text = json.dumps(row).lower()
            assert any(token in text for token in tokens), (table, row)
    raw_ids = [r.get("message_id") for r in document["records"]["raw.segment_messages"]]
    assert sorted(raw_ids) == ["m1", "m2", "m3"]


def test_after_erasure_the_export_says_so_and_holds_nothing(scenario: Scenario, tmp_path: Path) -> None:
    with connection(scenario.url) as conn:
        erase_person(conn, Lookup("email", "jane.doe@mail.com"))
    out = tmp_path / "jane.json"
    assert main(["privacy", "export", "--email", "jane.doe@mail.com", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert (document["erased"], document["resolved_via"]) == (True, "suppression")
    assert all(not rows for rows in tables_of(document).values())
    assert document["suppression"] == {"suppressed": True, "identifier_types": {"email": 1}}


def test_export_of_someone_unknown_is_an_error(scenario: Scenario, capsys) -> None:
    with pytest.raises(PersonNotFoundError):
        export(scenario.url, Lookup("email", "nobody@mail.com"))
    assert main(["privacy", "export", "--user-id", "u_nobody"]) == 2
    assert "nothing is held about user_id 'u_nobody'" in capsys.readouterr().err
