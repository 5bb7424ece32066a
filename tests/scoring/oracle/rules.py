"""WTP rules evaluated over whole pandas columns: the oracle the compiled SQL (scoring/sql.py)
is compared against. The rule itself and its validation are the package's (scoring/rules.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from audience_dagster.scoring.rules import BASE_SCORE, Rule, check_rule
from tests.scoring.oracle.explain import accumulate


def field_kind(column: pd.Series) -> str:
    """``bool``, ``number``, ``datetime``, ``text``, ``array`` or ``empty`` (no value at all)."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    present = column.dropna()
    if present.empty:
        return "empty"
    first = present.iloc[0]
    if isinstance(first, list | tuple | np.ndarray):
        return "array"
    if isinstance(first, bool | np.bool_):
        return "bool"
    if isinstance(first, int | float | np.number) or hasattr(first, "as_tuple"):  # Decimal
        return "number"
    return "text"


def rule_matches(rule: Rule, profiles: pd.DataFrame) -> np.ndarray:
    """Boolean per profile: does ``rule`` hold? Raises :class:`RuleError` for a malformed rule."""
    kinds = dict.fromkeys(profiles.columns, "unknown")  # only the rule's own field is inspected
    if rule.field in kinds:
        kinds[rule.field] = field_kind(profiles[rule.field])
    operand = check_rule(rule, kinds)
    column, kind = profiles[rule.field], kinds[rule.field]
    if rule.operator == "exists":
        if kind == "array":
            return column.str.len().fillna(0).to_numpy() > 0
        return column.notna().to_numpy()
    if rule.operator == "contains":
        hit = column.explode().eq(operand)
        return hit.groupby(level=0).any().reindex(column.index, fill_value=False).to_numpy(dtype=bool)
    if rule.operator == "equals":
        return column.eq(operand).fillna(False).to_numpy(dtype=bool)
    values = column if kind == "datetime" else pd.to_numeric(column, errors="coerce").astype(float)
    if rule.operator == "greater_than":
        return (values > operand).fillna(False).to_numpy(dtype=bool)
    if rule.operator == "less_than":
        return (values < operand).fillna(False).to_numpy(dtype=bool)
    low, high = operand
    return values.between(low, high).fillna(False).to_numpy(dtype=bool)


def applies(rule: Rule, profiles: pd.DataFrame) -> np.ndarray:
    """Which profiles a rule applies to (``applies_to``, validated by :func:`check_rule`; see the
    module docstring)."""
    if rule.applies_to == "all":
        return np.ones(len(profiles), dtype=bool)
    new = (profiles["total_orders"].fillna(0).to_numpy() == 0) & (profiles["total_sessions"].fillna(0).to_numpy() <= 1)
    return new if rule.applies_to == "new" else ~new


def score_with_rules(
    profiles: pd.DataFrame, rules: Sequence[Rule], base: int = BASE_SCORE
) -> tuple[pd.Series, pd.DataFrame]:
    """(score 0–100 per profile, contributions ``profile, rule, points``) for rules in priority
    order; each rule's points are capped in magnitude at ``max_contribution``."""

    def points() -> Iterable[tuple[str, np.ndarray]]:
        for rule in sorted(rules, key=lambda r: r.priority):
            hit = rule_matches(rule, profiles) & applies(rule, profiles)  # rule_matches validates the rule
            adjustment = rule.score_adjustment
            if rule.max_contribution is not None:
                adjustment = int(np.sign(adjustment)) * min(abs(adjustment), rule.max_contribution)
            yield rule.name, np.where(hit, adjustment, 0)

    return accumulate(profiles.index, base, points())
