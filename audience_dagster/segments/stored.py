"""Segment and cohort definitions read back from their tables, where anyone may have written
anything (pure: rows → definitions).

A row of ``micro_segments`` or ``cohort_definitions`` is edited by hand, by the UI, by scripts:
its JSON columns may hold anything jsonb can — nested 1,000 deep, megabytes long, the wrong
types. The refresh reads them as text and builds each definition here, so one hostile row
fails alone with a :class:`~audience_dagster.errors.SegmentError` naming its slug (stored in
its ``last_error``) and every other definition still refreshes. Parsing is bounded before it
starts: at most :data:`MAX_DEFINITION_BYTES` of JSON and :data:`MAX_JSON_DEPTH` levels of
nesting (counted without recursion), so neither Python's recursion limit nor memory is at the
mercy of a row. The rule compilers then bound the rule tree itself (segments/rules.py).
"""

from __future__ import annotations

import json
import math
from typing import Any

from audience_dagster.errors import RuleError, SegmentError
from audience_dagster.segments.definition import CohortDefinition, SegmentDefinition

MAX_DEFINITION_BYTES = 256 << 10
MAX_JSON_DEPTH = 64


def json_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in JSON text (strings skipped), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def load_json(text: str | None, what: str, default: Any) -> Any:
    """A JSON column's value, or ``default`` for NULL; :class:`RuleError` when it is too large,
    too deep or not finite numbers."""
    if text is None:
        return default
    if len(text) > MAX_DEFINITION_BYTES:
        raise RuleError(f"{what} is {len(text)} characters of JSON; at most {MAX_DEFINITION_BYTES} are read")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise RuleError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise RuleError(f"{what} holds a number beyond the range of a double ({number[:20]}…)")
        return value

    try:
        return json.loads(text, parse_float=finite, parse_constant=lambda c: finite(c))
    except ValueError as exc:
        raise RuleError(f"{what} is not valid JSON: {exc}") from None


def segment_from_row(row: dict[str, Any]) -> SegmentDefinition:
    """A definition from a ``micro_segments`` row (``rules``/``behavior_definition`` as text);
    :class:`SegmentError` naming the slug when it cannot be read."""
    slug = str(row["slug"])
    try:
        threshold = row["model_threshold"]
        return SegmentDefinition(
            slug=slug,
            name=row["name"],
            segment_type=row["segment_type"],
            rules=load_json(row["rules"], "rules", []),
            rule_logic=row["rule_logic"],
            model_id=row["model_id"],
            model_threshold=None if threshold is None else float(threshold),
            model_operator=row["model_operator"],
            behavior_definition=load_json(row["behavior_definition"], "behavior_definition", {}) or {},
            status=row["status"],
        )
    except (RuleError, ValueError, OverflowError) as exc:
        raise SegmentError(slug, str(exc)) from None


def cohort_from_row(row: dict[str, Any]) -> CohortDefinition:
    """A definition from a ``cohort_definitions`` row (criteria as text); :class:`SegmentError`
    naming the cohort when it cannot be read."""
    slug = str(row["slug"] or row["id"])
    try:
        return CohortDefinition(
            slug=slug,
            name=row["name"],
            cohort_type=row["cohort_type"],
            entry_criteria=load_json(row["entry_criteria"], "entry_criteria", None),
            exit_criteria=load_json(row["exit_criteria"], "exit_criteria", None),
            cohort_period=row["cohort_period"] or "month",
            lookback_days=row["lookback_days"],
        )
    except RuleError as exc:
        raise SegmentError(slug, str(exc)) from None
