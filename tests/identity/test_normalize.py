from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audience_dagster.identity.normalize import blocked_mask, normalize_emails, normalize_phones


def _as_list(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(x) else x for x in series]


def test_emails_are_trimmed_and_lowercased() -> None:
    got = normalize_emails(pd.Series(["  Jane.Doe@X.com ", "BOB@Mail.Example.CO.UK", "\tann+tag@y.io\n"]))
    assert _as_list(got) == ["jane.doe@x.com", "bob@mail.example.co.uk", "ann+tag@y.io"]


@pytest.mark.parametrize(
    "raw", ["", "   ", "jane", "jane@", "@x.com", "a@b@c.com", "jane@localhost", "jane@x.", "jane@.com", "ja ne@x.com"]
)
def test_implausible_emails_become_na(raw: str) -> None:
    assert _as_list(normalize_emails(pd.Series([raw]))) == [None]


def test_missing_email_stays_na_and_index_is_kept() -> None:
    got = normalize_emails(pd.Series([None, np.nan, "a@b.co"], index=[10, 11, 12]))
    assert list(got.index) == [10, 11, 12]
    assert _as_list(got) == [None, None, "a@b.co"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(415) 555-0123", "+14155550123"),
        ("+1 415-555-0123", "+14155550123"),
        ("4155550123", "+14155550123"),
        ("14155550123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("555-0123", None),
        ("24155550123", None),  # 11 digits not starting with the default code
        ("+1234567", None),  # 7 digits after '+'
        ("+1234567890123456", None),  # 16 digits
        ("call 4155550123", None),
        ("", None),
        (None, None),
    ],
)
def test_phones_to_e164(raw: str | None, expected: str | None) -> None:
    assert _as_list(normalize_phones(pd.Series([raw], dtype=object))) == [expected]


def test_phones_with_another_default_country_code() -> None:
    got = normalize_phones(pd.Series(["020 7946 0958", "4420 7946 0958", "2079460958"]), default_country_code="44")
    # 11 national digits do not fit the 10-digit rule; 12 digits starting with 44 do; 10 digits get +44.
    assert _as_list(got) == [None, "+442079460958", "+442079460958"]


def test_bad_default_country_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="default_country_code"):
        normalize_phones(pd.Series(["4155550123"]), default_country_code="+1")


def test_blocked_values_are_case_insensitive_and_trimmed() -> None:
    values = ["null", " NULL ", "Undefined", "anonymous", "0", "-1", "NaN", "None", "[object Object]", "unknown"]
    values += ["N/A", "", "  ", None, "u-42", "00", "nullable", "\u00a0Guest\u200b", "1"]
    types = ["user_id"] * len(values)
    got = blocked_mask(pd.Series(types), pd.Series(values, dtype=object))
    # "00": one character repeated; "1": a single character not on the list
    assert got.tolist() == [True] * 14 + [False, True, False, True, False]


def test_blocked_email_patterns_apply_to_emails_only() -> None:
    types = ["email", "email", "email", "email", "email", "email", "email", "social_handle", "email"]
    values = [
        "test@shop.com",
        "jane@test.com",
        "jane@example.org",
        "noreply@shop.com",
        "no-reply@shop.com",
        "jane@example.io",
        "contest@shop.com",
        "test@shop.com",
        "jane@shop.com",
    ]
    got = blocked_mask(pd.Series(types), pd.Series(values))
    assert got.tolist() == [True, True, True, True, True, False, False, False, False]


def test_extra_patterns_apply_to_every_type_case_insensitively() -> None:
    types = pd.Series(["email", "user_id", "anonymous_id", "user_id"])
    values = pd.Series(["qa+1@shop.com", "QA-user-7", "ok-anon", "real-user"])
    got = blocked_mask(types, values, extra_patterns=[r"^qa[+-]", r"(bot|crawler)$"])
    assert got.tolist() == [True, True, False, False]


def test_invalid_extra_pattern_is_reported() -> None:
    with pytest.raises(ValueError, match=r"'\(unclosed'"):
        blocked_mask(pd.Series(["user_id"]), pd.Series(["x"]), extra_patterns=["(unclosed"])


def test_blocked_mask_accepts_arrays_with_nan_and_non_strings() -> None:
    types = np.array(["user_id", "user_id", "user_id", "email"], dtype=object)
    values = np.array([np.nan, 0, 42, " Test@Shop.io "], dtype=object)
    assert blocked_mask(types, values).tolist() == [True, True, False, True]
