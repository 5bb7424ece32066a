"""Naming a person (a lookup) and the bound parameters that find their rows. Pure: no database.

Identifier values are normalised in SQL (``privacy.normalize_identifier``, shared with ingest),
so the same value always hashes and compares the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from audience_dagster.errors import AudienceError
from audience_dagster.identity.rules import DEVICE_TYPES, PERSON_TYPES

IDENTIFIER_TYPES: tuple[str, ...] = (*PERSON_TYPES, *DEVICE_TYPES)
PROFILE_ID = "profile_id"
# Free text is searched only for values at least this long (emails always): a short customer
# id like "c7" would match unrelated numbers and words.
MIN_TEXT_SEARCH_LENGTH = 6
# Characters that may continue an identifier: a match must not be preceded or followed by one,
# so erasing jane@x.com does not touch mary.jane@x.com.
_WORD = "a-z0-9_.@+-"


class PrivacyError(AudienceError):
    """A privacy request cannot be carried out as asked (bad lookup, junk identifier)."""


class PersonNotFoundError(PrivacyError):
    """Nothing is held about the person named (and they were never erased)."""


@dataclass(frozen=True)
class Lookup:
    """How a request names the person: an identifier (type and value) or a profile id."""

    identifier_type: str
    value: str

    def __post_init__(self) -> None:
        if self.identifier_type not in (*IDENTIFIER_TYPES, PROFILE_ID):
            raise PrivacyError(
                f"unknown identifier type {self.identifier_type!r}; "
                f"use one of: {', '.join((*IDENTIFIER_TYPES, PROFILE_ID))}"
            )
        if not self.value.strip():
            raise PrivacyError(f"empty {self.identifier_type}: name the person with a value")

    @classmethod
    def parse(cls, text: str) -> Lookup:
        """``type:value`` (the value may contain ':', e.g. ``social_handle:instagram:jane``)."""
        kind, sep, value = text.partition(":")
        if not sep:
            raise PrivacyError(f"--identifier {text!r} must be type:value, e.g. email:jane@example.com")
        return cls(kind.strip(), value)

    @property
    def is_profile(self) -> bool:
        return self.identifier_type == PROFILE_ID


def profile_id_params(profile_ids: Iterable[str]) -> dict[str, list]:
    """Profile ids as the arrays a column of each type is compared with (invalid ones left out)."""
    ids = sorted(set(profile_ids))
    uuids = [str(uuid.UUID(p)) for p in ids if is_uuid(p)]
    ints = [int(p) for p in ids if re.fullmatch(r"-?\d{1,18}", p)]
    return {"profile_ids_uuid": uuids, "profile_ids_int8": ints, "profile_ids_text": ids}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def identifier_params(identifiers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Normalised identifiers as one array per type (``ids_email`` …) and as parallel arrays."""
    pairs = sorted(set(identifiers))
    params: dict[str, list[str]] = {f"ids_{kind}": [] for kind in IDENTIFIER_TYPES}
    for kind, value in pairs:
        params[f"ids_{kind}"].append(value)
    params["id_types"] = [kind for kind, _ in pairs]
    params["id_values"] = [value for _, value in pairs]
    return params


def text_search_values(identifiers: Iterable[tuple[str, str]]) -> list[str]:
    """The strings that, found in free text (a quarantined record, merge evidence), mean this
    person: every identifier value, a social handle as ``@handle``; short values are left out."""
    values = set()
    for kind, value in identifiers:
        if kind == "social_handle":
            value = "@" + value.partition(":")[2]
        if kind == "email" or len(value) >= MIN_TEXT_SEARCH_LENGTH:
            values.add(value.lower())
    return sorted(values)


def text_search_pattern(values: Iterable[str]) -> str | None:
    """A PostgreSQL regular expression matching any of ``values`` as a whole token in
    lower-cased text; None when there is nothing to search for."""
    values = sorted(set(values))
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in values)
    return f"(^|[^{_WORD}])({alternatives})($|[^{_WORD}])"
