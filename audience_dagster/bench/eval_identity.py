"""``audience eval identity``: the identity map against the generator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audience_dagster.config import load_settings
from audience_dagster.identity.evaluate import evaluate_identity_map
from audience_dagster.identity.identity_map import read_identity_map
from audience_dagster.warehouse.connection import connection, resolve_warehouse


def evaluate_identity(sample: Path | None = None) -> dict[str, float]:
    settings = load_settings()
    truth = pd.read_csv((sample or settings.sample_dir) / "truth" / "identifiers.csv", dtype=str)
    with connection(resolve_warehouse(settings).url) as conn:
        frame = read_identity_map(conn)
    return evaluate_identity_map(frame, truth)
