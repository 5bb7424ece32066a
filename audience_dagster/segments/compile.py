"""One entry point from a segment definition to its member query (pure: segment → sql, params)."""

from __future__ import annotations

from typing import Any

from audience_dagster.errors import RuleError, SegmentError
from audience_dagster.segments.behavior import compile_behavioral_segment
from audience_dagster.segments.definition import SegmentDefinition
from audience_dagster.segments.ml import compile_ml_segment
from audience_dagster.segments.rules import compile_rule_segment


def compile_segment(segment: SegmentDefinition) -> tuple[str, dict[str, Any]] | None:
    """``(sql, params)`` selecting ``profile_id, score`` of the segment's automatic members, or
    None for a manual segment (its members are only added by hand or import). ``as_of`` is bound
    by the caller. Raises :class:`SegmentError` naming the slug."""
    try:
        if segment.segment_type == "rule_based":
            return compile_rule_segment(segment.rules, segment.rule_logic)
        if segment.segment_type == "behavioral":
            return compile_behavioral_segment(segment.behavior_definition)
        if segment.segment_type == "ml_based":
            return compile_ml_segment(segment.model_id, segment.model_threshold, segment.model_operator)
        if segment.segment_type == "manual":
            return None
    except RuleError as exc:
        raise SegmentError(segment.slug, str(exc)) from None
    raise SegmentError(segment.slug, f"unknown segment_type {segment.segment_type!r}")
