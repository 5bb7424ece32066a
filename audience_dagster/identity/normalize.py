"""Normalisation of raw identifier values and the blocklist of junk identifiers.

Everything here is vectorised with pandas string methods: no per-row Python. Missing or
implausible values become ``pd.NA`` (results use the nullable ``string`` dtype).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

# Values that SDKs, forms and broken templates send instead of a real identifier. Compared
# case-insensitively after trimming; a missing value is blocked as well.
BLOCKED_VALUES: frozenset[str] = frozenset(
    {"null", "undefined", "anonymous", "0", "-1", "nan", "none", "[object object]", "unknown", "n/a", ""}
)

# Test and placeholder addresses: never a person. Matched against the trimmed, lower-cased
# value of ``email`` identifiers as literal prefixes / suffixes (C-speed string ufuncs, no regex).
BLOCKED_EMAIL_PREFIXES: tuple[str, ...] = ("test@", "noreply@", "no-reply@", "donotreply@", "do-not-reply@")
BLOCKED_EMAIL_SUFFIXES: tuple[str, ...] = ("@test.com", "@example.com", "@example.org", "@example.net")
# The same rules as regexes, for display and for callers that combine them with their own patterns.
BLOCKED_EMAIL_PATTERNS: tuple[str, ...] = tuple(
    [f"^{re.escape(p)}" for p in BLOCKED_EMAIL_PREFIXES] + [f"{re.escape(s)}$" for s in BLOCKED_EMAIL_SUFFIXES]
)

# One ``@``, a non-empty local part, a domain of non-empty dot-separated labels, no whitespace.
_EMAIL_RE = r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+"
# Characters a written phone number may contain.
_PHONE_CHARS_RE = r"\+?[\d\s().\-/]+"
_STRING = np.dtypes.StringDType()


def normalize_emails(values: pd.Series) -> pd.Series:
    """Trim and lowercase email addresses; implausible addresses become NA.

    >>> normalize_emails(pd.Series(["  Jane@X.com ", "jane@", "a@b@c.com"])).tolist()
    ['jane@x.com', <NA>, <NA>]
    """
    cleaned = values.astype("string").str.strip().str.lower()
    plausible = cleaned.str.fullmatch(_EMAIL_RE).fillna(False).astype(bool)
    return cleaned.where(plausible, pd.NA)


def normalize_phones(values: pd.Series, default_country_code: str = "1") -> pd.Series:
    """Phone numbers to E.164 (``+14155550123``); anything implausible becomes NA.

    A leading ``+`` means the digits already include the country code (kept when 8–15 digits).
    Without it: 10 digits get the default country code; ``10 + len(code)`` digits starting with the
    default code get a ``+``. Everything else is NA.
    """
    if not re.fullmatch(r"[1-9]\d{0,2}", default_country_code):
        raise ValueError(f"default_country_code must be 1-3 digits without '+', got {default_country_code!r}")
    raw = values.astype("string").str.strip()
    well_formed = raw.str.fullmatch(_PHONE_CHARS_RE).fillna(False).astype(bool)
    has_plus = raw.str.startswith("+").fillna(False).astype(bool)
    digits = raw.str.replace(r"\D", "", regex=True)
    n_digits = digits.str.len().fillna(0).astype(np.int64)
    code = default_country_code

    international = has_plus & n_digits.between(8, 15)
    national = ~has_plus & (n_digits == 10)
    with_code = ~has_plus & (n_digits == 10 + len(code)) & digits.str.startswith(code).fillna(False).astype(bool)

    result = pd.Series(pd.NA, index=values.index, dtype="string")
    result = result.mask(well_formed & (international | with_code), "+" + digits)
    result = result.mask(well_formed & national, "+" + code + digits)
    return result


def blocked_mask(
    types: pd.Series | np.ndarray, values: pd.Series | np.ndarray, extra_patterns: Sequence[str] = ()
) -> np.ndarray:
    """Boolean array: True where an identifier must never be used to link anything.

    Blocked are missing values, :data:`BLOCKED_VALUES` (case-insensitive, trimmed), emails with a
    :data:`BLOCKED_EMAIL_PREFIXES` prefix or :data:`BLOCKED_EMAIL_SUFFIXES` suffix, and any value
    matching one of ``extra_patterns`` (regexes, case-insensitive, applied to every type).
    Trimming, lowercasing, the blocklist and the prefixes / suffixes run in C over numpy
    ``StringDType`` arrays; regexes run only when extra patterns are given.
    """
    if len(types) != len(values):
        raise ValueError(f"types and values differ in length: {len(types)} != {len(values)}")
    for pattern in extra_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"extra blocked pattern {pattern!r} is not a valid regex: {exc}") from exc
    raw = np.asarray(values, dtype=object)
    missing = pd.isna(raw)
    cleaned = np.strings.lower(np.strings.strip(as_strings(np.where(missing, "", raw))))
    blocked = missing | np.isin(cleaned, as_strings(np.array(sorted(BLOCKED_VALUES), dtype=object)))

    is_email = as_strings(types) == "email"
    if is_email.any():
        emails = cleaned[is_email]
        hit = np.zeros(len(emails), dtype=bool)
        for prefix in BLOCKED_EMAIL_PREFIXES:
            hit |= np.strings.startswith(emails, prefix)
        for suffix in BLOCKED_EMAIL_SUFFIXES:
            hit |= np.strings.endswith(emails, suffix)
        blocked[is_email] |= hit
    if extra_patterns:
        blocked |= _matches(cleaned, extra_patterns)
    return blocked


def as_strings(values: pd.Series | np.ndarray) -> np.ndarray:
    """``values`` as a numpy ``StringDType`` array (vectorised comparisons and string ufuncs in C)."""
    array = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    if isinstance(array, np.ndarray) and isinstance(array.dtype, np.dtypes.StringDType):
        return array
    return np.asarray(array, dtype=_STRING)


def _matches(values: np.ndarray, patterns: Sequence[str]) -> np.ndarray:
    """True where any of ``patterns`` is found (case-insensitive) in ``values``."""
    combined = "|".join(f"(?:{p})" for p in patterns)
    with warnings.catch_warnings():  # user patterns may contain capture groups; we only test for a match
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression", UserWarning)
        hit = pd.Series(values.astype(object), dtype=object).str.contains(combined, regex=True, case=False)
    return hit.fillna(False).to_numpy(dtype=bool)
