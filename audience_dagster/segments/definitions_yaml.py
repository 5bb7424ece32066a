"""Segment and cohort definitions as code: YAML files in the repo, reviewed in pull requests and
synced into ``micro_segments`` / ``cohort_definitions`` (pure: files → definitions).

One file per definition, named ``<slug>.yaml``, with the spec's columns as keys. Segments live in
``defaults/segments/`` beside this module, cohorts in ``defaults/cohorts/``. Loading checks the
shape and compiles every rule, so a bad file fails with its path before anything is written.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from audience_dagster.errors import RuleError, SegmentError
from audience_dagster.segments.cohorts import compile_cohort
from audience_dagster.segments.compile import compile_segment
from audience_dagster.segments.definition import SEGMENT_TYPES, CohortDefinition, SegmentDefinition

DEFAULTS = resources.files("audience_dagster.segments").joinpath("defaults")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_INTERVAL = re.compile(r"^\s*\d{1,5}\s+(minute|hour|day|week)s?\s*$", re.IGNORECASE)


def _fields(cls: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    known = set(cls.__dataclass_fields__)
    extra = sorted(set(data) - known)
    if extra:
        slug = str(data.get("slug", where))
        raise SegmentError(slug, f"{where}: unknown keys {extra}; use {', '.join(sorted(known))}")
    return data


def segment_from_mapping(data: Any, where: str) -> SegmentDefinition:
    """A checked :class:`SegmentDefinition` (rules compiled once to find mistakes early)."""
    if not isinstance(data, dict):
        raise SegmentError(where, "a segment file holds one mapping of the spec's micro_segments columns")
    slug = data.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise SegmentError(str(slug), f"{where}: slug must be lower-case letters, digits and dashes")
    try:
        segment = SegmentDefinition(**_fields(SegmentDefinition, data, where))
    except TypeError as exc:
        raise SegmentError(slug, f"{where}: {exc}") from None
    if segment.segment_type not in SEGMENT_TYPES:
        raise SegmentError(slug, f"{where}: segment_type must be one of {', '.join(SEGMENT_TYPES)}")
    if not _INTERVAL.match(str(segment.refresh_frequency)):
        raise SegmentError(slug, f"{where}: refresh_frequency must be like '1 hour' or '15 minutes'")
    compile_segment(segment)
    return segment


def cohort_from_mapping(data: Any, where: str) -> CohortDefinition:
    if not isinstance(data, dict) or not isinstance(data.get("slug"), str) or not _SLUG.match(data["slug"]):
        raise SegmentError(where, "a cohort file holds one mapping with a slug (lower-case letters, digits, dashes)")
    try:
        cohort = CohortDefinition(**_fields(CohortDefinition, data, where))
    except TypeError as exc:
        raise SegmentError(data["slug"], f"{where}: {exc}") from None
    try:
        compile_cohort(cohort)
    except RuleError as exc:
        raise SegmentError(cohort.slug, f"{where}: {exc}") from None
    return cohort


def _files(folder: Any) -> list[Any]:
    return sorted((f for f in folder.iterdir() if f.name.endswith((".yaml", ".yml"))), key=lambda f: f.name)


def _load(path: Any) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SegmentError(path.name, f"{path}: not valid YAML: {exc}") from None


def load_segments(folder: Path | Any | None = None) -> list[SegmentDefinition]:
    """Every segment file in ``folder`` (default: the shipped defaults); slugs must be unique."""
    folder = folder or DEFAULTS.joinpath("segments")
    segments = [segment_from_mapping(_load(f), str(f)) for f in _files(folder)]
    _unique([s.slug for s in segments], folder)
    return segments


def load_cohorts(folder: Path | Any | None = None) -> list[CohortDefinition]:
    folder = folder or DEFAULTS.joinpath("cohorts")
    cohorts = [cohort_from_mapping(_load(f), str(f)) for f in _files(folder)]
    _unique([c.slug for c in cohorts], folder)
    return cohorts


def _unique(slugs: list[str], folder: Any) -> None:
    seen = sorted({s for s in slugs if slugs.count(s) > 1})
    if seen:
        raise SegmentError(seen[0], f"{folder}: the slug is defined in more than one file")
