"""Normalisation of raw email values, the simple phone rule the SQL side mirrors, and the
junk-value check (:func:`blocked_mask`, over the junk list of :mod:`.junk`).

Everything here is vectorised with pandas / numpy string methods: no per-row Python (IDNA runs
once per distinct non-ASCII domain). Missing or implausible values become ``pd.NA`` (results
use the nullable ``string`` dtype). Phones for identity resolution go through
:mod:`.phones` (libphonenumber, with country context).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import idna
import numpy as np
import pandas as pd

from audience_dagster.identity.junk import WHITESPACE, JunkList, junk_codes, shipped_junk_list

# One ``@``, a non-empty local part, a domain of non-empty dot-separated labels, a top-level
# label of two or more letters (or an IDNA ``xn--`` label); no whitespace.
_EMAIL_RE = r"[^@\s]+@(?:[^@\s.]+\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)"
# Characters a written phone number may contain.
_PHONE_CHARS_RE = r"\+?[\d\s().\-/]+"
_STRING = np.dtypes.StringDType()
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalize_emails(values: pd.Series, fold_aliases: bool = False) -> pd.Series:
    """Email addresses as one person writes them every time; implausible ones become NA.

    Every Unicode whitespace and zero-width character is stripped at both ends, the value is
    lower-cased, a ``mailto:`` prefix and a ``Name <address>`` wrapper are removed, the
    domain loses a trailing root dot (``x.com.``) and is IDNA-encoded (``bücher.de`` →
    ``xn--bcher-kva.de``). ``fold_aliases`` also drops ``+tags`` and, for Gmail, the dots of
    the local part (``Jane.Doe+shop@googlemail.com`` → ``janedoe@gmail.com``); off by default,
    because for most providers those are different mailboxes.

    >>> normalize_emails(pd.Series(["  Jane@X.com. ", "mailto:Bo@Y.org", "jane@", "a@b@c.com"])).tolist()
    ['jane@x.com', 'bo@y.org', <NA>, <NA>]
    """
    codes, distinct = pd.factorize(values.astype("string"), use_na_sentinel=True)
    cleaned = pd.Series(distinct, dtype="string").str.strip(WHITESPACE).str.lower()
    wrapped = cleaned.str.endswith(">").fillna(False) & cleaned.str.contains("<", regex=False).fillna(False)
    cleaned = cleaned.where(~wrapped, cleaned.str.rpartition("<")[2].str[:-1])
    cleaned = cleaned.str.removeprefix("mailto:").str.strip(WHITESPACE)
    parts = cleaned.str.rpartition("@")
    local, domain = parts[0], parts[2].str.rstrip(".")
    non_ascii = domain.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False).astype(bool)
    if non_ascii.any():
        domain = domain.where(~non_ascii, domain[non_ascii].map(_idna_domain))
    if fold_aliases:
        local = local.str.partition("+")[0]
        gmail = domain.isin(GMAIL_DOMAINS)
        local = local.where(~gmail, local.str.replace(".", "", regex=False))
        domain = domain.where(~gmail, "gmail.com")
    email = local + "@" + domain
    plausible = email.str.fullmatch(_EMAIL_RE).fillna(False).astype(bool) & (parts[1] == "@").fillna(False)
    normalised = email.where(plausible, pd.NA)
    out = np.append(normalised.to_numpy(dtype=object), pd.NA)[codes]
    return pd.Series(out, index=values.index, dtype="string")


def _idna_domain(domain: str | None) -> str | None:
    if domain is None or pd.isna(domain):
        return None
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None


def normalize_phones(values: pd.Series, default_country_code: str = "1") -> pd.Series:
    """Phone numbers to E.164 by a digit-count rule (``+14155550123``); implausible ones become NA.

    This is the rule ``privacy.normalize_phone`` applies in SQL (ingest-time suppression and
    erasure); identity resolution uses libphonenumber with country context instead
    (:func:`~audience_dagster.identity.phones.normalize_phone_numbers`). A leading ``+`` means
    the digits already include the country code (kept when 8–15 digits). Without it: 10 digits
    get the default country code; ``10 + len(code)`` digits starting with the default code get
    a ``+``. Everything else is NA.
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
    types: pd.Series | np.ndarray,
    values: pd.Series | np.ndarray,
    extra_patterns: Sequence[str] = (),
    junk: JunkList | None = None,
) -> np.ndarray:
    """Boolean array: True where an identifier must never be used to link anything.

    Blocked are missing values and everything the junk list matches (``junk``, default: the
    shipped ``junk_values.yaml``; see :func:`~audience_dagster.identity.junk.junk_codes`), plus
    values matching one of ``extra_patterns`` (regexes, case-insensitive, every type).
    """
    if len(types) != len(values):
        raise ValueError(f"types and values differ in length: {len(types)} != {len(values)}")
    junk = junk or shipped_junk_list()
    for pattern in extra_patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"extra blocked pattern {pattern!r} is not a valid regex: {exc}") from exc
    if extra_patterns:
        junk = junk.extend(JunkList(patterns={"*": tuple(extra_patterns)}))
    return junk_codes(types, values, junk) > 0


def as_strings(values: pd.Series | np.ndarray) -> np.ndarray:
    """``values`` as a numpy ``StringDType`` array (vectorised comparisons and string ufuncs in C)."""
    array = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    if isinstance(array, np.ndarray) and isinstance(array.dtype, np.dtypes.StringDType):
        return array
    return np.asarray(array, dtype=_STRING)
