"""The junk list: every identifier type, case- and whitespace-insensitive, extensible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audience_dagster.identity.junk import (
    JUNK_REASONS,
    JunkListError,
    junk_codes,
    load_junk_list,
    parse_junk_list,
    read_junk_file,
    shipped_junk_list,
)
from audience_dagster.identity.rules import DEVICE_TYPES, PERSON_TYPES

EVERY_TYPE = (*PERSON_TYPES, *DEVICE_TYPES)


def reasons(types: list[str], values: list[object], junk=None) -> list[str]:
    codes = junk_codes(np.array(types, dtype=object), np.array(values, dtype=object), junk or shipped_junk_list())
    return [JUNK_REASONS[c] for c in codes]


@pytest.mark.parametrize("kind", EVERY_TYPE)
@pytest.mark.parametrize(
    "value",
    ["guest", " NULL ", "Undefined", "none", "N/A", "unknown", "test", "\u00a0Guest\u200b", "0",
     "00000000-0000-0000-0000-000000000000", "{{user_id}}", "${email}", "*|EMAIL|*", "0000", "xxxxx"],
)  # fmt: skip
def test_listed_junk_is_blocked_for_every_identifier_type(kind: str, value: str) -> None:
    value = f"instagram:{value}" if kind == "social_handle" else value
    assert reasons([kind], [value])[0].startswith("junk_list:")


def test_real_values_are_not_junk() -> None:
    types = ["user_id", "email", "phone", "social_handle", "shopify_customer_id", "anonymous_id"]
    values = ["u_7f3a", "jane.doe@gmail.com", "+14155550123", "instagram:jane_doe", "6000000000123",
              "8b88ad97-df6d-4efc-a62f-c31ab171c664"]  # fmt: skip
    assert reasons(types, values) == [""] * 6


def test_missing_values_are_blocked_as_missing() -> None:
    assert reasons(["user_id", "email", "phone"], [None, "", "   "]) == ["missing"] * 3


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("test@test.com", "junk_list:value"),
        ("a@b.c", "junk_list:value"),
        ("noreply@harborandpine.com", "junk_list:email_local_part"),
        ("No-Reply+orders@shop.io", "junk_list:email_local_part"),
        ("jane@example.com", "junk_list:email_domain"),
        ("jane@mail.example.org", "junk_list:email_domain"),
        ("jane@contest.com", ""),
        ("contest@shop.com", ""),
    ],
)
def test_email_placeholders(value: str, reason: str) -> None:
    assert reasons(["email"], [value]) == [reason]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("+15555555555", "junk_list:value"),
        ("+447777777777", "junk_list:phone_same_digit"),
        ("+33123456789", "junk_list:phone_sequential"),
        ("+19876543210", "junk_list:phone_sequential"),
        ("+14155550123", ""),
        ("+442079460958", ""),
    ],
)
def test_phone_placeholders_on_e164(value: str, reason: str) -> None:
    assert reasons(["phone"], [value]) == [reason]


def test_a_handle_is_judged_without_platform_and_at_sign() -> None:
    assert reasons(["social_handle"] * 3, ["tiktok:@null", "instagram:undefined", "instagram:null_and_void"]) == [
        "junk_list:value",
        "junk_list:value",
        "",
    ]


def test_type_values_apply_to_their_type_only() -> None:
    # "walk-in" is a junk user id and customer id, not a junk email provider id
    assert reasons(["user_id", "email_provider_id"], ["Walk-In", "walk-in"]) == ["junk_list:value", ""]


def test_users_extend_the_list_by_file_and_by_table_rows(tmp_path: Path) -> None:
    extra = tmp_path / "more.yaml"
    extra.write_text("values: [tbc]\ntypes:\n  user_id:\n    values: [qa-bot]\npatterns:\n  email: ['^qa\\+']\n")
    junk = load_junk_list(extra, rows=[("*", " PLACEHOLDER "), ("phone", "+14155550100")])
    got = reasons(
        ["user_id", "email", "user_id", "email", "anonymous_id", "phone", "email_provider_id"],
        ["TBC", "tbc", "qa-bot", "qa+7@shop.io", "placeholder", "+14155550100", "qa-bot"],
        junk,
    )
    assert got == ["junk_list:value"] * 3 + ["junk_list:pattern", "junk_list:value", "junk_list:value", ""]
    assert str(extra) in junk.sources and "identity.junk_values" in junk.sources


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "a junk list is a mapping"),
        ({"valuez": []}, "unknown keys"),
        ({"values": "null"}, "values must be a list"),
        ({"types": {"phone": {"sequential_digits": 3}}}, "sequential_digits"),
        ({"templates": [["{{"]]}, "templates"),
        ({"patterns": {"*": ["(unclosed"]}}, "not a valid regex"),
        ({"types": {"email": {"colours": []}}}, "types.email"),
    ],
)
def test_malformed_lists_fail_naming_the_file_and_key(data: object, message: str) -> None:
    with pytest.raises(JunkListError, match=message) as info:
        parse_junk_list(data, "more.yaml")
    assert "more.yaml" in str(info.value)


def test_unreadable_or_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("values: [unclosed\n")
    with pytest.raises(JunkListError, match="broken.yaml: not valid YAML"):
        read_junk_file(broken)
    with pytest.raises(JunkListError, match="cannot be read"):
        read_junk_file(tmp_path / "absent.yaml")
