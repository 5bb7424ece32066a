"""Cohorts compiled into SQL (pure: cohort definition → sql, params).

``entry_criteria`` says when a profile entered, and who may:

* ``date_field``: a date column of the profile (``first_seen_at``, ``acquisition_date`` …) — or
  ``event_type`` (+ ``properties``): the first such event (within ``lookback_days`` if set);
* ``rules`` / ``rule_logic`` (optional): the segment rule language over ``audience_profiles``.

``exit_criteria`` (null: membership is permanent) is either ``rules`` / ``rule_logic`` — a member
matching them has left, at the first refresh that sees it — or ``inactive_days: N`` — a member
left N days after they were last seen. The query selects ``profile_id, entered_at,
cohort_period_start, exited_at``; ``as_of`` is bound by the caller.
"""

from __future__ import annotations

import json
from typing import Any

from audience_dagster.errors import RuleError
from audience_dagster.segments.behavior import event_types
from audience_dagster.segments.rules import MAX_RELATIVE_DAYS, PROFILE_FIELDS, PROFILES, compile_condition, show

EVENTS = "marts.audience_events"
ENTRY_KEYS = frozenset({"date_field", "event_type", "properties", "rules", "rule_logic"})
EXIT_KEYS = frozenset({"rules", "rule_logic", "inactive_days"})
PERIODS = ("day", "week", "month")
COHORT_TYPES = ("acquisition", "behavioral", "lifecycle")


def _days(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RELATIVE_DAYS:
        raise RuleError(f"{what} must be a whole number of days from 1 to {MAX_RELATIVE_DAYS}, got {show(value)}")
    return value


def compile_cohort(cohort: Any, profiles: str = PROFILES, events: str = EVENTS) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of the cohort's members; raises :class:`RuleError` on a bad definition."""
    if cohort.cohort_type not in COHORT_TYPES:
        raise RuleError(f"cohort_type must be one of {', '.join(COHORT_TYPES)}, got {show(cohort.cohort_type)}")
    if cohort.cohort_period not in PERIODS:
        raise RuleError(f"cohort_period must be one of {', '.join(PERIODS)}, got {show(cohort.cohort_period)}")
    entry = cohort.entry_criteria
    if not isinstance(entry, dict) or sorted(set(entry) - ENTRY_KEYS):
        raise RuleError(f"entry_criteria must be an object with keys among {', '.join(sorted(ENTRY_KEYS))}")
    if ("date_field" in entry) == ("event_type" in entry):
        raise RuleError("entry_criteria needs exactly one of date_field (a profile date) or event_type")
    params: dict[str, Any] = {"c_period": cohort.cohort_period}
    lookback = None
    if cohort.lookback_days is not None:
        lookback = _days(cohort.lookback_days, "lookback_days")
        params["c_days"] = lookback
    window = " AND {col} > %(as_of)s - make_interval(days => %(c_days)s)" if lookback else ""
    ctes, join = "", ""
    if "date_field" in entry:
        field = entry["date_field"]
        if PROFILE_FIELDS.get(field) != "datetime":
            dates = sorted(f for f, kind in PROFILE_FIELDS.items() if kind == "datetime")
            raise RuleError(f"entry_criteria.date_field {show(field)} is not a profile date; use one of {dates}")
        entered = f'p."{field}"'
        where = [f"{entered} IS NOT NULL", f"{entered} <= %(as_of)s" + window.format(col=entered)]
    else:
        params["c_types"] = event_types(entry["event_type"], "entry_criteria.event_type")
        containment = ""
        if entry.get("properties"):
            if not isinstance(entry["properties"], dict):
                raise RuleError("entry_criteria.properties must be an object")
            params["c_properties"] = json.dumps(entry["properties"])
            containment = " AND e.properties @> %(c_properties)s::jsonb"
        ctes = f"""WITH first_events AS (
    SELECT e.profile_id, min(e.occurred_at) AS first_at
    FROM {events} e
    WHERE e.profile_id IS NOT NULL AND e.event_type = ANY(%(c_types)s::text[])
      AND e.occurred_at <= %(as_of)s{window.format(col="e.occurred_at")}{containment}
    GROUP BY e.profile_id
)
"""
        join = " JOIN first_events f ON f.profile_id = p.id"
        entered = "f.first_at"
        where = []
    if "rules" in entry:
        condition, rule_params = compile_condition(entry["rules"], entry.get("rule_logic"), prefix="ce")
        where.append(condition)
        params.update(rule_params)
    exited = "NULL::timestamptz"
    leave = cohort.exit_criteria
    if leave is not None:
        if (
            not isinstance(leave, dict)
            or sorted(set(leave) - EXIT_KEYS)
            or ("rules" in leave) == ("inactive_days" in leave)
        ):
            raise RuleError("exit_criteria must be null, {rules, rule_logic} or {inactive_days: N}")
        if "rules" in leave:
            condition, rule_params = compile_condition(leave["rules"], leave.get("rule_logic"), prefix="cx")
            params.update(rule_params)
            exited = f"CASE WHEN {condition} THEN %(as_of)s END"
        else:
            params["c_inactive"] = _days(leave["inactive_days"], "exit_criteria.inactive_days")
            gone = "p.last_seen_at + make_interval(days => %(c_inactive)s)"
            exited = f"CASE WHEN {gone} <= %(as_of)s THEN {gone} END"
    sql = f"""{ctes}SELECT p.id AS profile_id, {entered} AS entered_at,
    date_trunc(%(c_period)s, {entered}) AS cohort_period_start, {exited} AS exited_at
FROM {profiles} p{join}
WHERE {" AND ".join(where) or "true"}"""
    return sql, params
