"""The Dagster events of a ``dbt build``, read as dbt writes them, without a polling thread.

dagster-dbt's ``.stream().fetch_row_counts()`` ran a ``count(*)`` per table in a thread pool whose
result loop (``dagster._core.utils.imap``) waits with ``result(timeout=0.1)`` only while work is
queued and spins otherwise: a full core for the whole of every dbt step. Here the events are
converted as dbt emits them (a blocking read of its output) and each table model's row count is
the one dbt's own statement reported (``adapter_response.rows_affected``): no extra query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

# materialisation → metadata key: a table (and the project's partitioned_table, whose main
# statement inserts every row) writes all of its rows; an incremental model those of this build
ROWS_METADATA = {"table": "dagster/row_count", "partitioned_table": "dagster/row_count", "incremental": "rows_written"}


def rows_affected(raw_event: Mapping[str, Any]) -> tuple[str, int] | None:
    """``(metadata key, rows)`` of a finished table or incremental model, from the rows its main
    statement reported (``adapter_response.rows_affected``: a table's CREATE TABLE AS writes all of
    its rows; an incremental model's statement the rows of this build). None for views, tests,
    failures and events without it."""
    data = raw_event.get("data", {})
    key = ROWS_METADATA.get(data.get("node_info", {}).get("materialized", ""))
    rows = (data.get("run_result") or {}).get("adapter_response", {}).get("rows_affected")
    # a protobuf Struct in dbt's JSON log: numbers arrive as floats (501010.0)
    if key is None or isinstance(rows, bool) or not isinstance(rows, int | float) or rows < 0 or rows != int(rows):
        return None
    return key, int(rows)


def stream_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """The Dagster events of a dbt invocation as dbt emits them, each table model's with its row
    count. Replaces ``.stream().fetch_row_counts()``: that one counted every table with a
    ``count(*)`` and its thread pool's result loop (``dagster._core.utils.imap``) spun a full core
    for the whole build; this reads dbt's output with blocking reads only.

    dagster-dbt turns dbt Core's ``LogModelResult`` into the model's output, while the rows come
    with the ``NodeFinished`` event dbt writes right after it: a model's output waits for that
    event (or the end of the build) and leaves with the rows attached."""
    pending: dict[str, list[Any]] = {}
    for event in invocation.stream_raw_events():
        data = event.raw_event.get("data", {})
        unique_id = data.get("node_info", {}).get("unique_id")
        if event.raw_event.get("info", {}).get("name") == "NodeFinished" and unique_id in pending:
            rows = rows_affected(event.raw_event)
            for dagster_event in pending.pop(unique_id):
                if rows is not None and isinstance(dagster_event, dg.Output | dg.AssetMaterialization):
                    dagster_event = dagster_event.with_metadata({**dagster_event.metadata, rows[0]: rows[1]})
                yield dagster_event
            continue
        for dagster_event in event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if unique_id and isinstance(dagster_event, dg.Output | dg.AssetMaterialization):
                pending.setdefault(unique_id, []).append(dagster_event)
            else:
                yield dagster_event
    for held in pending.values():  # a model without its NodeFinished (dbt stopped): without rows
        yield from held
