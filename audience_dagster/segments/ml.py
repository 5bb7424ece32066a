"""ML-based segments compiled into SQL (pure): profiles whose prediction of ``model_id`` (a
``predictions.prediction_type``, or the profile column it fills, e.g. ``churn_risk``) compares with
``model_threshold`` by ``model_operator``; the membership score is the predicted value.
Predictions past their ``valid_until`` do not count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from audience_dagster.errors import RuleError
from audience_dagster.segments.rules import MAX_NUMBER, show

PREDICTIONS = "marts.predictions"
PREDICTION_TYPES: Mapping[str, str] = {
    "churn": "churn",
    "churn_risk": "churn",
    "ltv": "ltv",
    "predicted_ltv": "ltv",
    "next_purchase": "next_purchase",
    "next_purchase_probability": "next_purchase",
    "upgrade": "upgrade",
}
ML_OPERATORS: Mapping[str, str] = {
    "greater_than": ">",
    "less_than": "<",
    "greater_or_equal": ">=",
    "less_or_equal": "<=",
}


def compile_ml_segment(
    model_id: Any, threshold: Any, operator: Any = "greater_than", predictions: str = PREDICTIONS
) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of ``SELECT profile_id, score`` (score = predicted value)."""
    if not isinstance(model_id, str) or model_id not in PREDICTION_TYPES:
        raise RuleError(f"model_id {show(model_id)} is not a prediction type; use one of {', '.join(PREDICTION_TYPES)}")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or (isinstance(threshold, float) and not math.isfinite(threshold))
        or abs(threshold) > MAX_NUMBER
    ):
        raise RuleError(f"model_threshold must be a number within ±{MAX_NUMBER:g}, got {show(threshold)}")
    operator = operator or "greater_than"
    if not isinstance(operator, str) or operator not in ML_OPERATORS:
        raise RuleError(f"model_operator {show(operator)} is not one of {', '.join(ML_OPERATORS)}")
    sql = f"""SELECT pr.profile_id, pr.predicted_value AS score
FROM {predictions} pr
WHERE pr.prediction_type = %(m_type)s
  AND pr.predicted_value {ML_OPERATORS[operator]} %(m_threshold)s
  AND (pr.valid_until IS NULL OR pr.valid_until > %(as_of)s)"""
    return sql, {"m_type": PREDICTION_TYPES[model_id], "m_threshold": threshold}
