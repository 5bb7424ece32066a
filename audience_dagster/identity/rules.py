"""Identity-resolution rules: identifier priority, per-profile limits, strong vs weak types.

Safe defaults in the spirit of Segment Unify: a profile holds at most one ``user_id``, three
emails, one Shopify customer, two phones …; device-like identifiers are unlimited but weak (they
never join two persons).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from audience_dagster.errors import ConfigError


class IdentityRulesError(ConfigError, ValueError):
    """The identity rules are inconsistent (unknown type, bad limit, overlapping type sets)."""


PERSON_TYPES: tuple[str, ...] = (
    "user_id",
    "email",
    "shopify_customer_id",
    "phone",
    "email_provider_id",
    "social_handle",
    "shopify_order_id",
)
DEVICE_TYPES: tuple[str, ...] = ("anonymous_id", "device_id")

# person types first (in their own priority order), then devices: an app's device id outranks
# a cookie's anonymous id
_PRIORITY: tuple[str, ...] = (*PERSON_TYPES, "device_id", "anonymous_id")
_LIMITS: Mapping[str, int] = MappingProxyType(
    {"user_id": 1, "email": 3, "shopify_customer_id": 1, "phone": 2, "email_provider_id": 3, "social_handle": 5}
)


@dataclass(frozen=True)
class IdentityRules:
    """How identifiers may be merged into one profile.

    ``priority``: identifier types, highest first; when a merge breaks several limits the highest
    type is reported. ``limits``: maximum distinct identifiers of a (person) type in one profile;
    a type without an entry is unlimited. ``person_types`` are strong identifiers that define a
    person; ``device_types`` are weak identifiers that attach to at most one person.
    ``extra_blocked_patterns``: regexes (case-insensitive, every type) of values never to use.
    ``shared_value_people``: a person identifier whose direct links need more people than this
    (under the limits) is shared and joins nobody (see :mod:`~audience_dagster.identity.hubs`).
    ``event_types``: person types that identify a transaction, not a person (an order id): a
    group of nothing but these attaches to its device like a device does.
    """

    priority: tuple[str, ...] = _PRIORITY
    limits: Mapping[str, int] = field(default_factory=lambda: _LIMITS)
    person_types: frozenset[str] = frozenset(PERSON_TYPES)
    device_types: frozenset[str] = frozenset(DEVICE_TYPES)
    extra_blocked_patterns: tuple[str, ...] = ()
    shared_value_people: int = 2
    event_types: tuple[str, ...] = ("shopify_order_id",)

    def __post_init__(self) -> None:
        # Freeze caller-supplied containers so the rules stay immutable and hashable-ish.
        object.__setattr__(self, "priority", tuple(self.priority))
        object.__setattr__(self, "limits", MappingProxyType(dict(self.limits)))
        object.__setattr__(self, "person_types", frozenset(self.person_types))
        object.__setattr__(self, "device_types", frozenset(self.device_types))
        object.__setattr__(self, "extra_blocked_patterns", tuple(self.extra_blocked_patterns))
        object.__setattr__(self, "event_types", tuple(self.event_types))

    @property
    def known_types(self) -> frozenset[str]:
        return self.person_types | self.device_types

    def limited_types(self) -> tuple[str, ...]:
        """Types with a limit, in priority order."""
        return tuple(t for t in self.priority if t in self.limits)

    def validate(self) -> IdentityRules:
        """Raise :class:`IdentityRulesError` (a ``ValueError``) naming the bad key; return self."""
        both = self.person_types & self.device_types
        if both:
            raise IdentityRulesError(f"identity rules: types {sorted(both)} are both person_types and device_types")
        known = self.known_types
        seen: set[str] = set()
        for name in self.priority:
            if name not in known:
                raise IdentityRulesError(
                    f"identity rules: unknown type {name!r} in priority; add it to person_types or device_types"
                )
            if name in seen:
                raise IdentityRulesError(f"identity rules: type {name!r} appears twice in priority")
            seen.add(name)
        missing = sorted(known - seen)
        if missing:
            raise IdentityRulesError(f"identity rules: types {missing} are missing from priority")
        for name, limit in self.limits.items():
            if name not in known:
                raise IdentityRulesError(f"identity rules: unknown type {name!r} in limits")
            if name in self.device_types:
                raise IdentityRulesError(
                    f"identity rules: limits[{name!r}]: device types are unlimited (they never join two persons)"
                )
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise IdentityRulesError(f"identity rules: limits[{name!r}] must be an integer >= 1, got {limit!r}")
        for name in self.event_types:
            if name not in self.person_types:
                raise IdentityRulesError(f"identity rules: event type {name!r} must be one of person_types")
        people = self.shared_value_people
        if isinstance(people, bool) or not isinstance(people, int) or people < 1:
            raise IdentityRulesError(f"identity rules: shared_value_people must be an integer >= 1, got {people!r}")
        for pattern in self.extra_blocked_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise IdentityRulesError(
                    f"identity rules: extra_blocked_patterns entry {pattern!r} is not a valid regex: {exc}"
                ) from exc
        return self


DEFAULT_RULES = IdentityRules()
