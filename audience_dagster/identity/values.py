"""Raw identifier values as the identity graph's node values: one normalisation per type.

Emails: :func:`~audience_dagster.identity.normalize.normalize_emails`; phones: libphonenumber
with the record's country (:func:`~audience_dagster.identity.phones.normalize_phone_numbers`);
every other type: Unicode whitespace trimmed. A value that cannot be normalised (an implausible
email, an invalid phone) becomes ``''`` and gets a reason (``invalid_email``,
``invalid_phone: too short`` …) so it is recorded, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audience_dagster.identity.junk import WHITESPACE
from audience_dagster.identity.normalize import normalize_emails
from audience_dagster.identity.phones import check_region, normalize_phone_numbers


@dataclass(frozen=True)
class NormalisationOptions:
    """``default_region``: ISO alpha-2 country for phones whose record names none.
    ``fold_email_aliases``: drop ``+tags`` and Gmail dots (off: they are different mailboxes)."""

    default_region: str = "US"
    fold_email_aliases: bool = False

    def validate(self) -> NormalisationOptions:
        check_region(self.default_region)
        return self


DEFAULT_OPTIONS = NormalisationOptions()


def normalise_identifiers(
    types: pd.Series,
    values: pd.Series,
    regions: pd.Series | None = None,
    options: NormalisationOptions = DEFAULT_OPTIONS,
) -> tuple[np.ndarray, np.ndarray]:
    """(node value per row: ``''`` when missing or invalid, reason per row: None when valid or
    missing). ``types``, ``values`` and ``regions`` are aligned; regions matter for phones only."""
    options.validate()
    types = types.reset_index(drop=True).astype(str)
    values = values.reset_index(drop=True).astype("string")
    out = values.str.strip(WHITESPACE).to_numpy(dtype=object)
    reason = np.full(len(values), None, dtype=object)
    is_email = types.eq("email").to_numpy()
    if is_email.any():
        raw = values[is_email]
        email = normalize_emails(raw, fold_aliases=options.fold_email_aliases)
        bad = email.isna().to_numpy() & raw.str.strip(WHITESPACE).fillna("").ne("").to_numpy()
        out[is_email] = email.fillna("").to_numpy(dtype=object)
        reason[np.flatnonzero(is_email)[bad]] = "invalid_email"
    is_phone = types.eq("phone").to_numpy()
    if is_phone.any():
        region = None if regions is None else regions.reset_index(drop=True).astype("string")[is_phone]
        phone, why = normalize_phone_numbers(values[is_phone], region, options.default_region)
        out[is_phone] = phone.fillna("").to_numpy(dtype=object)
        bad = (phone.isna() & why.ne("missing").fillna(False)).to_numpy(dtype=bool)
        reason[np.flatnonzero(is_phone)[bad]] = "invalid_phone: " + why[bad].to_numpy(dtype=str).astype(object)
    out[pd.isna(out)] = ""
    return out, reason


def rejected_identifiers(types: pd.Series, values: pd.Series, reasons: np.ndarray) -> pd.DataFrame:
    """The values that could not be normalised, one row per (type, trimmed value, reason) with
    how many graph rows carried them."""
    bad = pd.notna(reasons)
    frame = pd.DataFrame(
        {
            "identifier_type": types.to_numpy(dtype=object)[bad],
            "identifier_value": values.astype("string").str.strip(WHITESPACE).to_numpy(dtype=object)[bad],
            "reason": reasons[bad],
        }
    )
    return frame.groupby(list(frame.columns), sort=True).size().rename("observations").reset_index()
