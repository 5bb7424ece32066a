"""A segment and a cohort definition: one row of ``micro_segments`` / ``cohort_definitions``
(plain data; loaded from YAML by :mod:`.definitions_yaml`, from the tables by :mod:`.stored`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEGMENT_TYPES = ("rule_based", "ml_based", "behavioral", "manual")


@dataclass(frozen=True)
class SegmentDefinition:
    """One row of ``micro_segments`` (the spec's columns, plus ``model_operator``)."""

    slug: str
    name: str
    segment_type: str
    description: str | None = None
    rules: list[Any] = field(default_factory=list)
    rule_logic: str = "AND"
    model_id: str | None = None
    model_threshold: float | None = None
    model_operator: str = "greater_than"
    behavior_definition: dict[str, Any] = field(default_factory=dict)
    business_unit: str | None = None
    use_cases: list[str] = field(default_factory=list)
    refresh_frequency: str = "1 hour"
    auto_refresh: bool = True
    status: str = "active"


@dataclass(frozen=True)
class CohortDefinition:
    """One row of ``cohort_definitions`` (the spec's columns, plus ``slug``)."""

    slug: str
    name: str
    cohort_type: str
    entry_criteria: dict[str, Any]
    description: str | None = None
    exit_criteria: dict[str, Any] | None = None
    cohort_period: str = "month"
    lookback_days: int | None = None
    status: str = "active"
