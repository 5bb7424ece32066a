"""The predictions' settings as a Dagster resource, built from :class:`~audience_dagster.config.Settings`
by ``predictions/definitions.py``: the assets read no environment themselves."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class PredictionsResource(dg.ConfigurableResource):
    """Where trained models live and the horizon of every prediction type, in days."""

    models_dir: str
    horizons_days: dict[str, int]

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir)
