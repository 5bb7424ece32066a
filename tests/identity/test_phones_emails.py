"""Phones with libphonenumber and country context; emails as one person writes them every time."""

from __future__ import annotations

import pandas as pd
import pytest

from audience_dagster.identity.normalize import normalize_emails
from audience_dagster.identity.phones import check_region, normalize_phone_numbers, parse_phone
from audience_dagster.identity.values import NormalisationOptions, normalise_identifiers, rejected_identifiers


def _list(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(x) else x for x in series]


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("020 7946 0958", "GB", "+442079460958"),  # UK national format, UK context
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),  # '00' is read as international when US fails
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US's own international prefix
        ("030 12345678", "DE", "+493012345678"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("(212) 555-0123", "US", "+12125550123"),
        ("1-212-555-0123", "US", "+12125550123"),
        ("(416) 555-0199", "US", "+14165550199"),  # Canada shares +1
    ],
)
def test_phones_parse_in_their_records_country(raw: str, region: str, expected: str) -> None:
    assert parse_phone(raw, region) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0000000000", "not a valid number for region US"),
        ("12345", "too short"),
        ("call me", "not a phone number"),
        ("+999 123 4567", "unknown country code"),
        ("020 7946 0958", "too long"),  # a UK number with no UK context: 11 digits for the US
    ],
)
def test_invalid_phones_get_a_reason(raw: str, reason: str) -> None:
    assert parse_phone(raw, "US") == (None, reason)


def test_regions_come_per_value_and_unknown_ones_use_the_default() -> None:
    values = pd.Series(["020 7946 0958", "020 7946 0958", "(212) 555-0123", None, "+44 20 7946 0958"])
    regions = pd.Series(["GB", "ZZ", None, "GB", "xx"])
    phones, reasons = normalize_phone_numbers(values, regions, default_region="US")
    assert _list(phones) == ["+442079460958", None, "+12125550123", None, "+442079460958"]
    assert _list(reasons) == [None, "too long", None, "missing", None]
    uk_default, _ = normalize_phone_numbers(values[:2], None, default_region="GB")
    assert _list(uk_default) == ["+442079460958", "+442079460958"]


def test_bad_default_region_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 3166"):
        check_region("UK")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@X.com ", "jane.doe@x.com"),
        ("mailto:Jane@X.com", "jane@x.com"),
        ("MAILTO: jane@x.com", "jane@x.com"),
        ("\u00a0jane@x.com\u200b", "jane@x.com"),
        ("\tjane@x.com\n", "jane@x.com"),
        ("jane@x.com.", "jane@x.com"),
        ("Jane Doe <Jane@X.com>", "jane@x.com"),
        ("josé@Bücher.DE", "josé@xn--bcher-kva.de"),
        ("jose@xn--bcher-kva.de", "jose@xn--bcher-kva.de"),
        ("jane.doe+shop@gmail.com", "jane.doe+shop@gmail.com"),  # not folded by default
    ],
)
def test_email_variants_normalise_to_one_address(raw: str, expected: str) -> None:
    assert _list(normalize_emails(pd.Series([raw]))) == [expected]


@pytest.mark.parametrize("raw", ["", "jane", "jane@", "@x.com", "a@b@c.com", "jane@localhost", "a@b.c", "ja ne@x.com"])
def test_implausible_emails_become_na(raw: str) -> None:
    assert _list(normalize_emails(pd.Series([raw]))) == [None]


def test_folding_gmail_dots_and_tags_is_a_setting() -> None:
    raw = pd.Series(["Jane.Doe+shop@GoogleMail.com", "jane.doe+news@outlook.com"])
    assert _list(normalize_emails(raw, fold_aliases=True)) == ["janedoe@gmail.com", "jane.doe@outlook.com"]


def test_identifier_values_normalise_per_type_with_recorded_reasons() -> None:
    types = pd.Series(["email", "phone", "phone", "user_id", "email", "phone"])
    values = pd.Series(["mailto:A@X.io", "020 7946 0958", "12345", "\u00a0u-1 ", "not-an-email", None])
    regions = pd.Series([None, "GB", "US", None, None, None])
    out, reasons = normalise_identifiers(types, values, regions, NormalisationOptions(default_region="US"))
    assert out.tolist() == ["a@x.io", "+442079460958", "", "u-1", "", ""]
    assert reasons.tolist() == [None, None, "invalid_phone: too short", None, "invalid_email", None]
    rejected = rejected_identifiers(types, values, reasons)
    assert rejected.to_dict("records") == [
        {"identifier_type": "email", "identifier_value": "not-an-email", "reason": "invalid_email", "observations": 1},
        {"identifier_type": "phone", "identifier_value": "12345", "reason": "invalid_phone: too short",
         "observations": 1},
    ]  # fmt: skip
