"""Behavioral segments compiled into SQL (pure: behavior_definition → sql, params).

The spec's ``find_profiles_with_behavior`` as one grouped pass over
``audience_events`` — profiles with at least ``min_count`` (and at most ``max_count``) events of
``event_type`` in the last ``lookback_days`` whose ``properties`` contain ``properties``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from audience_dagster.errors import RuleError
from audience_dagster.segments.rules import MAX_LIST, MAX_RELATIVE_DAYS, MAX_TEXT, show

EVENTS = "marts.audience_events"
BEHAVIOR_KEYS = frozenset({"event_type", "min_count", "max_count", "lookback_days", "properties"})
MAX_COUNT = 2_147_483_647  # count(*) compares with an integer parameter


def _count(definition: Mapping[str, Any], key: str, default: int | None, high: int = MAX_COUNT) -> int | None:
    value = definition.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise RuleError(f"behavior_definition.{key} must be a whole number from 1 to {high}, got {show(value)}")
    return value


def event_types(value: Any, what: str) -> list[str]:
    """One event type or a list of 1 to MAX_LIST, each a non-empty string of at most MAX_TEXT."""
    types = [value] if isinstance(value, str) else value
    if (
        not isinstance(types, list)
        or not 0 < len(types) <= MAX_LIST
        or not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in types)
    ):
        raise RuleError(f"{what} must be an event type or a list of 1 to {MAX_LIST} of them, got {show(value)}")
    return types


def compile_behavioral_segment(definition: Any, events: str = EVENTS) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of ``SELECT profile_id, score`` (score 1); ``as_of`` bound by the caller."""
    if not isinstance(definition, dict):
        raise RuleError(f"behavior_definition must be an object, got {show(definition)}")
    extra = sorted(set(definition) - BEHAVIOR_KEYS)
    if extra:
        raise RuleError(f"behavior_definition: unknown keys {extra}; use {', '.join(sorted(BEHAVIOR_KEYS))}")
    types = event_types(definition.get("event_type"), "behavior_definition.event_type")
    min_count = _count(definition, "min_count", 1)
    max_count = _count(definition, "max_count", None)
    lookback = _count(definition, "lookback_days", 30, high=MAX_RELATIVE_DAYS)
    if max_count is not None and max_count < min_count:
        raise RuleError(f"behavior_definition: max_count {max_count} is below min_count {min_count}")
    properties = definition.get("properties")
    properties = {} if properties is None else properties
    if not isinstance(properties, dict):
        raise RuleError(f"behavior_definition.properties must be an object, got {show(properties)}")
    params: dict[str, Any] = {"b_types": types, "b_days": lookback, "b_min": min_count}
    having = "count(*) >= %(b_min)s"
    if max_count is not None:
        params["b_max"] = max_count
        having += " AND count(*) <= %(b_max)s"
    containment = ""
    if properties:
        params["b_properties"] = json.dumps(properties)
        containment = "\n  AND e.properties @> %(b_properties)s::jsonb"
    sql = f"""SELECT e.profile_id, 1::numeric AS score
FROM {events} e
WHERE e.profile_id IS NOT NULL
  AND e.event_type = ANY(%(b_types)s::text[])
  AND e.occurred_at > %(as_of)s - make_interval(days => %(b_days)s)
  AND e.occurred_at <= %(as_of)s{containment}
GROUP BY e.profile_id
HAVING {having}"""
    return sql, params
