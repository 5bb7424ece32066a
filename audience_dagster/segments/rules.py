"""Rule-based segments: the spec's JSON rules compiled into one SQL condition (pure: rules → sql, params).

A rule is ``{field, operator, value}``; a group is ``{rules: [...], rule_logic: 'AND' | 'OR'}`` and
may appear anywhere a rule may, so groups nest. Fields come from :data:`PROFILE_FIELDS` (the
spec's ``audience_profiles`` columns, a whitelist) and are written into the SQL only from that
table's keys; every value is a bound parameter (``%(name)s``). The as-of time is the parameter
``as_of``, bound by the caller, so relative dates ("90 days ago", "within last 30 days") are
deterministic.

Operators (and the field kinds they apply to):

* ``equals``, ``not_equals`` — text, number, bool, datetime, uuid (``not_equals`` excludes nulls,
  as the spec's ``.neq`` does);
* ``greater_than``, ``less_than``, ``greater_or_equal``, ``less_or_equal`` — number, datetime;
* ``between`` — number, datetime; ``[low, high]``, both ends included;
* ``in``, ``not_in`` — text, number, uuid; a non-empty list;
* ``contains`` — array (the value is one of the elements, as the spec's ``.contains``), text
  (substring, case-sensitive);
* ``is_null``, ``is_not_null`` — any field; no value;
* ``within_last`` — datetime; ``"30 days"``, ``"last 30 days"`` or ``"within last 30 days"``:
  between then and the as-of time. ``equals`` with a ``"within last …"`` value means the same.

Datetime values are ISO dates/times, ``"now"``, ``"N <unit>s ago"`` or ``"in N <unit>s"`` (units:
minute, hour, day, week, month, year).

Bounds (anyone can write a rule row): at most :data:`MAX_DEPTH` levels of groups and
:data:`MAX_RULES` rules and groups in a tree; numbers finite and within ±:data:`MAX_NUMBER`;
relative dates within :data:`MAX_RELATIVE_DAYS` of the as-of time; text values of at most
:data:`MAX_TEXT` characters and lists of at most :data:`MAX_LIST` values. Anything else is a
:class:`RuleError` naming the rule's path, never an SQL error.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from audience_dagster.errors import RuleError

PROFILES = "marts.audience_profiles"

_TEXT = (
    "email phone first_name last_name display_name avatar_url city state country timezone lifecycle_stage"
    " acquisition_source acquisition_campaign rfm_segment"
)
_NUMBER = (
    "total_sessions total_pageviews total_events articles_read videos_watched downloads emails_received"
    " emails_opened emails_clicked total_orders total_revenue average_order_value engagement_score wtp_score"
    " lead_score health_score rfm_recency rfm_frequency rfm_monetary predicted_ltv churn_risk"
    " next_purchase_probability"
)
_DATETIME = (
    "first_seen_at last_seen_at email_subscription_date last_order_at acquisition_date gdpr_consent_date"
    " created_at updated_at"
)
# the spec's audience_profiles columns a rule may read, by kind (external_ids, jsonb, is not one)
PROFILE_FIELDS: Mapping[str, str] = {
    "id": "uuid",
    **dict.fromkeys(_TEXT.split(), "text"),
    **dict.fromkeys(_NUMBER.split(), "number"),
    **dict.fromkeys(_DATETIME.split(), "datetime"),
    **dict.fromkeys(("email_subscribed", "gdpr_consent", "do_not_track"), "bool"),
    **dict.fromkeys(("interests", "preferred_verticals", "preferred_content_types", "preferred_channels"), "array"),
}
OPERATOR_KINDS: Mapping[str, frozenset[str]] = {
    "equals": frozenset({"text", "number", "bool", "datetime", "uuid"}),
    "not_equals": frozenset({"text", "number", "bool", "datetime", "uuid"}),
    "greater_than": frozenset({"number", "datetime"}),
    "less_than": frozenset({"number", "datetime"}),
    "greater_or_equal": frozenset({"number", "datetime"}),
    "less_or_equal": frozenset({"number", "datetime"}),
    "between": frozenset({"number", "datetime"}),
    "in": frozenset({"text", "number", "uuid"}),
    "not_in": frozenset({"text", "number", "uuid"}),
    "contains": frozenset({"array", "text"}),
    "is_null": frozenset(PROFILE_FIELDS.values()),
    "is_not_null": frozenset(PROFILE_FIELDS.values()),
    "within_last": frozenset({"datetime"}),
}
COMPARISONS = {
    "equals": "=",
    "not_equals": "<>",
    "greater_than": ">",
    "less_than": "<",
    "greater_or_equal": ">=",
    "less_or_equal": "<=",
}
LOGIC = ("AND", "OR")
MAX_DEPTH = 8
MAX_RULES = 100
MAX_NUMBER = 1e15
MAX_RELATIVE_DAYS = 36_600  # about 100 years
MAX_TEXT = 1_000
MAX_LIST = 1_000
UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 31, "year": 366}

_short = reprlib.Repr()
_short.maxlevel, _short.maxstring, _short.maxother, _short.maxlist, _short.maxdict = 3, 60, 60, 6, 6


def show(value: Any) -> str:
    """A short, safe repr for error messages (bounded depth and length)."""
    return _short.repr(value)


_UNITS = "minute|hour|day|week|month|year"
_AGO = re.compile(rf"^\s*(\d{{1,6}})\s+({_UNITS})s?\s+ago\s*$", re.IGNORECASE)
_AHEAD = re.compile(rf"^\s*in\s+(\d{{1,6}})\s+({_UNITS})s?\s*$", re.IGNORECASE)
_WITHIN = re.compile(rf"^\s*(?:within\s+)?(?:(?:the\s+)?last\s+)?(\d{{1,6}})\s+({_UNITS})s?\s*$", re.IGNORECASE)
_WITHIN_PHRASE = re.compile(r"^\s*within\s+(?:the\s+)?last\s+", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
LEAF_KEYS = frozenset({"field", "operator", "value", "description"})
GROUP_KEYS = frozenset({"rules", "rule_logic", "description"})


class _Compiler:
    """Walks the rule tree once; collects bound parameters under ``<prefix><n>`` names."""

    def __init__(self, prefix: str, fields: Mapping[str, str], alias: str) -> None:
        self.prefix, self.fields, self.alias = prefix, fields, alias
        self.params: dict[str, Any] = {}
        self.nodes = 0

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def group(self, rules: Any, logic: Any, where: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise RuleError(f"{where}: groups nest deeper than {MAX_DEPTH} levels")
        if not isinstance(rules, list) or not rules:
            raise RuleError(f"{where}: 'rules' must be a non-empty list of rules or groups, got {show(rules)}")
        logic = "AND" if logic is None else logic
        if not isinstance(logic, str) or logic.upper() not in LOGIC:
            raise RuleError(f"{where}: rule_logic must be 'AND' or 'OR', got {show(logic)}")
        parts = [self.node(rule, f"{where}[{i}]", depth) for i, rule in enumerate(rules)]
        return parts[0] if len(parts) == 1 else "(" + f" {logic.upper()} ".join(parts) + ")"

    def node(self, rule: Any, where: str, depth: int) -> str:
        self.nodes += 1
        if self.nodes > MAX_RULES:
            raise RuleError(f"{where}: more than {MAX_RULES} rules and groups in one definition")
        if not isinstance(rule, dict):
            raise RuleError(f"{where}: a rule must be an object {{field, operator, value}}, got {show(rule)}")
        if "rules" in rule:
            extra = sorted(set(rule) - GROUP_KEYS)
            if extra:
                raise RuleError(f"{where}: a group has only rules and rule_logic, not {extra}")
            return self.group(rule["rules"], rule.get("rule_logic"), f"{where}.rules", depth + 1)
        extra = sorted(set(rule) - LEAF_KEYS)
        if extra:
            raise RuleError(f"{where}: unknown keys {extra}; a rule has field, operator and value")
        return self.leaf(rule.get("field"), rule.get("operator"), rule.get("value"), "value" in rule, where)

    def leaf(self, field: Any, operator: Any, value: Any, has_value: bool, where: str) -> str:
        if not isinstance(field, str) or field not in self.fields:
            raise RuleError(f"{where}: unknown field {show(field)}; rules may read {', '.join(sorted(self.fields))}")
        if not isinstance(operator, str) or operator not in OPERATOR_KINDS:
            raise RuleError(f"{where}: unknown operator {show(operator)}; use one of {', '.join(OPERATOR_KINDS)}")
        kind = self.fields[field]
        if kind not in OPERATOR_KINDS[operator]:
            raise RuleError(f"{where}: operator {operator!r} does not apply to {field!r} ({kind})")
        column = f'{self.alias}."{field}"'
        if operator in ("is_null", "is_not_null"):
            if has_value and value is not None:
                raise RuleError(f"{where}: {operator} takes no value, got {show(value)}")
            return f"{column} IS {'NOT ' if operator == 'is_not_null' else ''}NULL"
        if not has_value:
            raise RuleError(f"{where}: {operator} on {field!r} needs a value")
        if operator == "within_last" or (
            operator == "equals" and kind == "datetime" and isinstance(value, str) and _WITHIN_PHRASE.match(value)
        ):
            since = self.interval_before(value, where, _WITHIN)
            return f"({column} >= {since} AND {column} <= %(as_of)s)"
        if operator == "contains":
            element = self.scalar(value, "text", field, where)
            if kind == "array":
                return f"{element} = ANY({column})"
            return f"strpos({column}, {element}) > 0"
        if operator in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > MAX_LIST:
                raise RuleError(
                    f"{where}: {operator} on {field!r} needs a list of 1 to {MAX_LIST} values, got {show(value)}"
                )
            values = [self._literal(v, kind, field, where) for v in value]
            cast = {"number": "numeric[]", "uuid": "uuid[]", "text": "text[]"}[kind]
            test = f"{column} = ANY({self.bind(values)}::{cast})"
            return test if operator == "in" else f"NOT ({test})"
        if operator == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise RuleError(f"{where}: between on {field!r} needs [low, high], got {show(value)}")
            low, high = (self.scalar(v, kind, field, where) for v in value)
            return f"{column} BETWEEN {low} AND {high}"
        return f"{column} {COMPARISONS[operator]} {self.scalar(value, kind, field, where)}"

    def scalar(self, value: Any, kind: str, field: str, where: str) -> str:
        """A value as SQL: a bound parameter, or an expression of bound parameters (relative dates)."""
        if kind == "datetime" and isinstance(value, str):
            if value.strip().lower() == "now":
                return "%(as_of)s"
            if _AGO.match(value):
                return self.interval_before(value, where, _AGO)
            ahead = _AHEAD.match(value)
            if ahead:
                return f"(%(as_of)s + {self.bind(self._interval(ahead, value, where))}::interval)"
        return self.bind(self._literal(value, kind, field, where))

    def _interval(self, match: re.Match[str], value: Any, where: str) -> str:
        """``'N units'`` for a matched relative date, within :data:`MAX_RELATIVE_DAYS`."""
        amount, unit = int(match[1]), match[2].lower()
        if amount * UNIT_DAYS[unit] > MAX_RELATIVE_DAYS:
            raise RuleError(f"{where}: {show(value)} is more than {MAX_RELATIVE_DAYS} days from the as-of time")
        return f"{amount} {unit}s"

    def interval_before(self, value: Any, where: str, pattern: re.Pattern[str]) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_RELATIVE_DAYS:
            value = f"{value} days"
        match = pattern.match(value) if isinstance(value, str) else None
        if not match:
            raise RuleError(f"{where}: not a relative date: {show(value)} (e.g. '90 days ago', 'within last 30 days')")
        return f"(%(as_of)s - {self.bind(self._interval(match, value, where))}::interval)"

    def _literal(self, value: Any, kind: str, field: str, where: str) -> Any:
        wrong = RuleError(f"{where}: {field!r} is {kind}; {show(value)} ({type(value).__name__}) is not")
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise wrong
            if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_NUMBER:
                raise RuleError(
                    f"{where}: {field!r} compares with {show(value)}; numbers must be within ±{MAX_NUMBER:g}"
                )
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise wrong
            return value
        if kind == "uuid":
            if not isinstance(value, str) or not _UUID.match(value):
                raise wrong
            return value
        if kind == "datetime":
            if not isinstance(value, str):
                raise wrong
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise RuleError(
                    f"{where}: {field!r} is a date; {show(value)} is neither ISO 8601 nor relative ('90 days ago')"
                ) from None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if not isinstance(value, str):
            raise wrong
        if len(value) > MAX_TEXT:
            raise RuleError(f"{where}: {field!r} compares with {len(value)} characters; at most {MAX_TEXT}")
        return value


def compile_condition(
    rules: Sequence[Any],
    rule_logic: str | None = "AND",
    *,
    prefix: str = "r",
    fields: Mapping[str, str] = PROFILE_FIELDS,
    alias: str = "p",
) -> tuple[str, dict[str, Any]]:
    """``(condition, params)``: the rules as one SQL boolean over ``<alias>.<field>``.

    Raises :class:`RuleError` naming the rule's path (``rules[1].rules[0]``) on an unknown field,
    operator or key, a value of the wrong type, or a malformed group."""
    compiler = _Compiler(prefix, fields, alias)
    condition = compiler.group(list(rules) if isinstance(rules, list | tuple) else rules, rule_logic, "rules", 0)
    return condition, compiler.params


def compile_rule_segment(
    rules: Sequence[Any], rule_logic: str | None = "AND", profiles: str = PROFILES
) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of a ``SELECT profile_id, score`` of every profile the rules match
    (score 1, as the spec's calculateRuleBasedSegment). ``as_of`` is bound by the caller."""
    condition, params = compile_condition(rules, rule_logic)
    return f"SELECT p.id AS profile_id, 1::numeric AS score FROM {profiles} p WHERE {condition}", params
