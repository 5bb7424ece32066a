"""``audience eval identity``: the identity map against the generator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audience_dagster.config import load_settings
from audience_dagster.errors import ConfigError
from audience_dagster.identity.evaluate import evaluate_identity_map
from audience_dagster.identity.identity_map import build_graph, read_edges, read_identity_map
from audience_dagster.warehouse.connection import connection, resolve_warehouse


def evaluate_identity(sample: Path | None = None) -> dict[str, float]:
    """Pairwise precision / recall of ``identity.identity_map`` against ``truth/identifiers.csv``,
    with the recall ceiling of the links in ``int_identity_edges`` (see ``evaluate_identity_map``)."""
    settings = load_settings()
    truth_file = (sample or settings.sample_dir) / "truth" / "identifiers.csv"
    if not truth_file.exists():
        raise ConfigError(f"no ground truth at {truth_file}: run `audience demo` (or pass --sample <folder>)")
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    with connection(resolve_warehouse(settings).url) as conn:
        frame = read_identity_map(conn)
        graph = build_graph(read_edges(conn))
    return evaluate_identity_map(frame, truth, graph.edge_keys())
