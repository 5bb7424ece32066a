"""Which capability group a dbt model belongs to, by its file (no manifest needed: importing
this never loads the dbt project, unlike :mod:`audience_dagster.transform.dbt`)."""

from __future__ import annotations

# model folder (under models/) -> capability group; the first matching prefix wins
GROUPS: tuple[tuple[str, str], ...] = (
    ("models/staging/identity/", "identity"),
    ("models/intermediate/identity/", "identity"),
    # staging views of the tables Python assets write: in the writer's group
    ("models/staging/scoring/", "scoring"),
    ("models/staging/predictions/", "predictions"),
    ("models/staging/segments/", "segments"),
    ("models/staging/", "ingest"),
    ("models/intermediate/", "profiles"),
    ("models/marts/audience/", "profiles"),
    ("models/marts/reports/", "reports"),
)


def capability_group(original_file_path: str) -> str | None:
    """The capability group of a dbt node by its file (``models/staging/segment/…`` → ingest)."""
    for prefix, group in GROUPS:
        if original_file_path.startswith(prefix):
            return group
    return None
