"""Phone numbers to E.164 with Google's libphonenumber (the ``phonenumbers`` package), using the
country each record gives (Segment ``traits.address.country`` / ``context.locale``, Shopify
country codes) and a default region otherwise.

Parsing is the expensive part (~50 µs a number), so it runs once per *distinct* pair of
(written number, region), never per record: a number written with only phone characters
(digits, spaces, ``()-./``) is reduced to its digits first, so ``(212) 555-0123`` and
``212.555.0123`` are parsed once. A number that is not valid gets a recorded reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from audience_dagster.identity.factorize import factorize_pairs
from audience_dagster.identity.junk import WHITESPACE

SUPPORTED_REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)
_PLAIN = r"\+?[\d\s().\-/]+"
_POSSIBLE = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}
_PARSE = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def check_region(region: str) -> str:
    """An ISO 3166 alpha-2 region libphonenumber knows (upper case); raises ``ValueError``."""
    code = (region or "").strip().upper()
    if code not in SUPPORTED_REGIONS:
        raise ValueError(f"phone region {region!r} is not an ISO 3166 alpha-2 code libphonenumber knows (e.g. US, GB)")
    return code


def parse_phone(text: str, region: str) -> tuple[str | None, str | None]:
    """``(E.164, None)`` for a valid number, ``(None, reason)`` otherwise.

    A number written with the international prefix ``00`` (``0044 20 …``) is read as
    international when the region's own reading is not a valid number (most of the world dials
    ``00``; the region's own prefix, e.g. ``011`` in the US, is understood anyway).
    """
    e164, reason = _parse(text, region)
    if e164 is None and text.startswith("00") and len(text) > 4:
        e164_intl, _ = _parse("+" + text[2:], region)
        if e164_intl is not None:
            return e164_intl, None
    return e164, reason


def _parse(text: str, region: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _PARSE.get(exc.error_type, "not a phone number")
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164), None
    possible = phonenumbers.is_possible_number_with_reason(number)
    return None, _POSSIBLE.get(possible, f"not a valid number for region {region}")


def normalize_phone_numbers(
    values: pd.Series, regions: pd.Series | None = None, default_region: str = "US"
) -> tuple[pd.Series, pd.Series]:
    """(E.164 or NA, reason or NA) per value, aligned with ``values``.

    ``regions``: ISO alpha-2 country context per value (missing or unknown codes use
    ``default_region``). Reasons: ``missing``, ``too short``, ``too long``, ``wrong length``,
    ``unknown country code``, ``not a phone number``, ``not a valid number for region XX``.
    """
    default = check_region(default_region)
    raw = values.astype("string").str.strip(WHITESPACE)
    if regions is None:
        region = pd.Series(default, index=values.index, dtype="string")
    else:
        region = regions.astype("string").str.strip().str.upper()
        region = region.where(region.isin(SUPPORTED_REGIONS), default).fillna(default)
    plain = raw.str.fullmatch(_PLAIN).fillna(False).astype(bool)
    digits = raw.str.replace(r"\D", "", regex=True)
    key = raw.where(~plain, raw.str.startswith("+").map({True: "+", False: ""}).astype("string") + digits)
    missing = raw.isna() | (raw == "")
    codes, texts, regs = factorize_pairs(key.fillna("").to_numpy(dtype=object), region.to_numpy(dtype=object))
    parsed = [parse_phone(text, reg) if text else (None, "missing") for text, reg in zip(texts, regs, strict=True)]
    e164 = np.array([p[0] for p in parsed] + [None], dtype=object)[codes]
    reason = np.array([p[1] for p in parsed] + [None], dtype=object)[codes]
    out = pd.Series(e164, index=values.index, dtype="string")
    why = pd.Series(reason, index=values.index, dtype="string")
    why[missing] = "missing"
    out[missing] = pd.NA
    return out, why
