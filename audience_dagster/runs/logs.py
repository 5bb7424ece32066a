"""Where a run's logs go (its Dagster event log lines, dbt's output): one folder per run."""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hint.

from pathlib import Path

import dagster as dg

from audience_dagster.runs.tags import LOG_DIR_TAG


class RunLogs(dg.ConfigurableResource):
    """``root`` holds a folder per run; a run tagged with :data:`LOG_DIR_TAG` (the CLI's) logs there."""

    root: str

    def folder(self, context: dg.AssetExecutionContext) -> Path:
        """The run's log folder (created): the run tag's, else ``<root>/<run id>/``."""
        tagged = context.run.tags.get(LOG_DIR_TAG)
        folder = Path(tagged) if tagged else Path(self.root) / context.run.run_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder
