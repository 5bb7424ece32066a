"""The landing folder's layout: one subfolder per JSON-lines source, one for order CSVs.

No Dagster and no database here: the ingest assets, ``audience refresh`` (before it starts
Dagster) and the refresh stamp (``runs/stamp.py``) list the same files the same way.
"""

from __future__ import annotations

from pathlib import Path

from audience_dagster.errors import IngestError
from audience_dagster.ingest.landing import find_landing_files
from audience_dagster.ingest.sources import JSON_SOURCES

HISTORICAL_ORDERS_FOLDER = "historical_orders"
LANDING_FOLDERS: tuple[str, ...] = (*(s.landing_subdir for s in JSON_SOURCES), HISTORICAL_ORDERS_FOLDER)


def landing_paths(root: Path) -> list[Path]:
    """Every file the ingest pass reads under the landing folder ``root``, in its order: each
    source's JSON-lines files, then the historical-orders CSVs."""
    paths = [p for source in JSON_SOURCES for p in find_landing_files(root / source.landing_subdir, "jsonl")]
    return paths + find_landing_files(root / HISTORICAL_ORDERS_FOLDER, "csv")


def missing_landing_dir(root: Path) -> IngestError:
    return IngestError(
        f"the landing folder {root} does not exist: set AUDIENCE_LANDING_DIR to the folder holding "
        f"{', '.join(f'{d}/' for d in LANDING_FOLDERS)} (or run `audience demo` for a sample)"
    )


def landing_file_count(root: Path) -> int:
    """Landing files under ``root`` (IngestError when the folder itself is missing)."""
    if not root.is_dir():
        raise missing_landing_dir(root)
    return len(landing_paths(root))
