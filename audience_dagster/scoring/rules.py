"""Willingness-to-pay rules (the spec's ``wtp_scoring_rules``): the rule, its parsing and validation
(the SQL that scores them is compiled in :mod:`.sql`).

A rule names a profile ``field``, an ``operator`` and a ``value``; when it holds, the profile
gets ``score_adjustment`` points, capped in magnitude at ``max_contribution`` when set. Rules run
in ``priority`` order (lower first) and the explanation lists them in that order; the score is
``base`` (50) plus every contribution, clamped to 0–100 once at the end (as in the spec), so
the order does not change the score.

Operators (``value`` is the rule's JSON value):

* ``equals``: field equals value (number, string or boolean; a missing field never equals);
* ``greater_than`` / ``less_than``: numeric or timestamp comparison with a number / ISO date;
* ``contains``: an array field (``interests`` …) holds the value;
* ``exists``: the field is not null (an empty array counts as missing);
* ``range``: ``{"min": a, "max": b}``, both inclusive, ``a <= b``.

``applies_to``: ``all``; ``new`` — a profile with no order and at most one session (someone we
see for the first time); ``returning`` — everyone else (a second session or any order).

A rule naming a field that is not a profile column, an unknown operator, a value of the wrong
shape for its operator or field, an unknown ``applies_to``, or a number out of bounds
(``score_adjustment`` and ``max_contribution`` within ±:data:`MAX_POINTS`, compared values finite
and within ±:data:`MAX_VALUE`) raises :class:`RuleError` naming the rule: it never silently
scores 0. The scores asset sets such a rule aside alone (its ``last_error`` says why) and scores
with the others (scoring/warehouse.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from audience_dagster.errors import RuleError

OPERATORS = ("equals", "greater_than", "less_than", "contains", "exists", "range")
APPLIES_TO = ("all", "new", "returning")
BASE_SCORE = 50
MAX_POINTS = 100  # a rule cannot move a 0-100 score further
MAX_VALUE = 1e15
MAX_TEXT = 1_000


@dataclass(frozen=True)
class Rule:
    """One scoring rule, in the spec's columns."""

    name: str
    field: str
    operator: str
    value: object
    score_adjustment: int
    max_contribution: int | None = None
    priority: int = 100
    applies_to: str = "all"
    rule_type: str = "attribute"
    description: str = ""
    rule_id: str | None = field(default=None, compare=False)  # the table row, when read from it


def _rule(name, field, operator, value, points, description, rule_type="attribute") -> Rule:
    return Rule(name, field, operator, value, points, description=description, rule_type=rule_type)


# The spec's nine default rules ("Default WTP Rules"), seeded into wtp_scoring_rules on first run.
DEFAULT_WTP_RULES: tuple[Rule, ...] = (
    _rule("has_purchased", "total_orders", "greater_than", 0, 20, "Has bought at least once", "aggregate"),
    _rule("high_aov", "average_order_value", "greater_than", 100, 15, "Average order above 100", "aggregate"),
    _rule("repeat_customer", "total_orders", "greater_than", 2, 15, "Three or more orders", "aggregate"),
    _rule("email_engaged", "emails_clicked", "greater_than", 5, 10, "Clicked more than five emails", "behavior"),
    _rule("high_engagement", "engagement_score", "greater_than", 70, 10, "Engagement score above 70", "behavior"),
    _rule("premium_interest", "interests", "contains", "premium", 10, "Browses premium products"),
    _rule("price_sensitive_browsing", "interests", "contains", "discount", -15, "Browses discounts", "behavior"),
    _rule("low_engagement", "engagement_score", "less_than", 20, -10, "Engagement score below 20", "behavior"),
    _rule("churned_email", "email_subscribed", "equals", False, -5, "Not (or no longer) subscribed to email"),
)


def rules_from_frame(frame: pd.DataFrame) -> list[Rule]:
    """Active rules from ``wtp_scoring_rules`` rows (``value`` as JSON text or Python), priority
    order; raises :class:`RuleError` on the first row that cannot be read."""
    rules, failures = rules_and_failures_from_frame(frame)
    if failures:
        raise RuleError(next(iter(failures.values())))
    return rules


def rules_and_failures_from_frame(frame: pd.DataFrame) -> tuple[list[Rule], dict[str, str]]:
    """(readable active rules in priority order, {row key: why a row cannot be read}); the key
    is the row's ``id`` when the frame has one, else its name."""
    active = frame[frame["status"].eq("active")].sort_values(["priority", "name"], kind="stable")
    rules, failures = [], {}
    for row in active.itertuples(index=False):  # one per rule, not per profile
        key = str(getattr(row, "id", None) or row.name)
        try:
            rules.append(_rule_from_row(row))
        except (RuleError, TypeError, ValueError, OverflowError) as exc:
            message = str(exc) if isinstance(exc, RuleError) else f"WTP rule {str(row.name)[:80]!r}: {exc}"
            failures[key] = message
    return rules, failures


def _rule_from_row(row) -> Rule:
    value = row.value
    where = f"WTP rule {str(row.name)[:80]!r}"
    if isinstance(value, str):
        if len(value) > 64 << 10:
            raise RuleError(f"{where}: value is {len(value)} characters of JSON; at most {64 << 10} are read")
        try:
            value = json.loads(value)
        except RecursionError:
            raise RuleError(f"{where}: the value nests too deep to read (a number, text or range)") from None
        except json.JSONDecodeError as exc:
            raise RuleError(f"{where}: value {value[:80]!r} is not valid JSON ({exc})") from None
    cap = None if pd.isna(row.max_contribution) else int(row.max_contribution)
    return Rule(
        name=row.name,
        field=row.field,
        operator=row.operator,
        value=value,
        score_adjustment=int(row.score_adjustment),
        max_contribution=cap,
        priority=int(row.priority),
        applies_to=row.applies_to,
        rule_type=row.rule_type,
        rule_id=None if getattr(row, "id", None) is None else str(row.id),
    )


def rule_where(rule: Rule) -> str:
    """How errors name a rule (its value shortened: a rule row may hold anything)."""
    try:
        value = json.dumps(rule.value, default=str)
    except (ValueError, RecursionError):
        value = type(rule.value).__name__
    value = value if len(value) <= 80 else value[:77] + "..."
    return f"WTP rule {str(rule.name)[:80]!r} ({str(rule.field)[:80]} {str(rule.operator)[:40]} {value})"


def check_rule(rule: Rule, kinds: Mapping[str, str]) -> object:
    """Validate ``rule`` against the profile fields' kinds (``bool``, ``number``, ``datetime``,
    ``text``, ``array`` or ``empty``); return the comparison operand(s): the parsed bound(s) for
    comparisons and ranges, the value otherwise. Raises :class:`RuleError` naming the rule."""
    where, value = rule_where(rule), rule.value
    if rule.operator not in OPERATORS:
        raise RuleError(f"{where}: unknown operator {rule.operator!r}; use one of {', '.join(OPERATORS)}")
    if rule.field not in kinds:
        raise RuleError(f"{where}: unknown field {rule.field!r}; profile fields are {', '.join(sorted(kinds))}")
    if rule.applies_to not in APPLIES_TO:
        raise RuleError(f"{where}: applies_to {rule.applies_to!r} is not one of {APPLIES_TO}")
    if not -MAX_POINTS <= rule.score_adjustment <= MAX_POINTS:
        raise RuleError(f"{where}: score_adjustment {rule.score_adjustment} must be within ±{MAX_POINTS}")
    if rule.max_contribution is not None and not 0 <= rule.max_contribution <= MAX_POINTS:
        raise RuleError(f"{where}: max_contribution must be from 0 to {MAX_POINTS}")
    if not -(2**31) <= rule.priority < 2**31:
        raise RuleError(f"{where}: priority must fit an integer")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise RuleError(f"{where}: the value is {len(value)} characters; at most {MAX_TEXT}")
    if isinstance(value, float) and not math.isfinite(value):
        raise RuleError(f"{where}: the value must be a finite number")
    kind = kinds[rule.field]
    if rule.operator == "exists":
        return None
    if rule.operator == "contains":
        if kind not in ("array", "empty"):
            raise RuleError(f"{where}: 'contains' needs an array field; {rule.field!r} holds {kind} values")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise RuleError(f"{where}: 'contains' needs a string or number value")
        return value
    if kind == "array":
        raise RuleError(f"{where}: {rule.field!r} is an array; use 'contains' or 'exists'")
    if rule.operator == "equals":
        expected = {bool: "bool", int: "number", float: "number", str: "text"}.get(type(value))
        if expected is None:
            raise RuleError(f"{where}: 'equals' needs a number, string or boolean value")
        if kind not in (expected, "empty"):
            raise RuleError(f"{where}: a {expected} value cannot equal {rule.field!r}, which holds {kind} values")
        return value
    if kind not in ("number", "datetime", "empty"):
        raise RuleError(f"{where}: {rule.operator!r} needs a numeric or date field; {rule.field!r} holds {kind}")
    if rule.operator in ("greater_than", "less_than"):
        return _bound(value, kind, where)
    if not (isinstance(value, Mapping) and {"min", "max"} <= set(value)):
        raise RuleError(f'{where}: \'range\' needs a value like {{"min": 10, "max": 50}}')
    low, high = _bound(value["min"], kind, where), _bound(value["max"], kind, where)
    if low > high:
        raise RuleError(f"{where}: range min is above max")
    return low, high


def _bound(value: object, kind: str, where: str):
    if kind == "datetime":
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise RuleError(f"{where}: {str(value)[:40]!r} is not a date") from exc
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(f"{where}: {str(value)[:40]!r} is not a number")
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_VALUE:
        raise RuleError(f"{where}: {str(value)[:40]} is out of range (numbers within ±{MAX_VALUE:g})")
    return float(value)
