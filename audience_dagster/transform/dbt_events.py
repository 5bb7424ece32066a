"""The Dagster events of a ``dbt build``, read as dbt writes them, without a polling thread.

dagster-dbt's ``.stream().fetch_row_counts()`` ran a ``count(*)`` per table in a thread pool whose
result loop (``dagster._core.utils.imap``) waits with ``result(timeout=0.1)`` only while work is
queued and spins otherwise: a full core for the whole of every dbt step. Here the events are
converted as dbt emits them (a blocking read of its output) and each table model's row count is
the one dbt's own statement reported (its command tag, ``INSERT 0 n``): no extra query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

# materialisation → metadata key: a table (and the project's partitioned_table, whose main
# statement inserts every row) writes all of its rows; an incremental model those of this build
ROWS_METADATA = {"table": "dagster/row_count", "partitioned_table": "dagster/row_count", "incremental": "rows_written"}


# the status dbt Core's LogModelResult carries: the adapter's message of the model's main
# statement, PostgreSQL's command tag ("SELECT 12943" for CREATE TABLE AS, "INSERT 0 521262")
_COMMAND_TAG = re.compile(r"^(?:SELECT|INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$")


def rows_affected(raw_event: Mapping[str, Any]) -> tuple[str, int] | None:
    """``(metadata key, rows)`` of a finished table or incremental model: the rows its main
    statement reported — ``run_result.adapter_response.rows_affected`` where dbt's event has it
    (``NodeFinished``, at debug level), else the command tag in ``LogModelResult``'s status, the
    event dagster-dbt turns into the model's output (a table's CREATE TABLE AS writes all of its
    rows; an incremental model's statement the rows of this build). None for views, tests,
    failures and events without it."""
    data = raw_event.get("data", {})
    key = ROWS_METADATA.get(data.get("node_info", {}).get("materialized", ""))
    rows = (data.get("run_result") or {}).get("adapter_response", {}).get("rows_affected")
    if rows is None and isinstance(data.get("status"), str):
        tag = _COMMAND_TAG.match(data["status"].strip())
        rows = int(tag.group(1)) if tag else None
    # a protobuf Struct in dbt's JSON log: numbers arrive as floats (501010.0)
    if key is None or isinstance(rows, bool) or not isinstance(rows, int | float) or rows < 0 or rows != int(rows):
        return None
    return key, int(rows)


def stream_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """The Dagster events of a dbt invocation as dbt emits them, each table model's with its row
    count. Replaces ``.stream().fetch_row_counts()``: that one counted every table with a
    ``count(*)`` and its thread pool's result loop (``dagster._core.utils.imap``) spun a full core
    for the whole build; this reads dbt's output with blocking reads only."""
    for event in invocation.stream_raw_events():
        rows = rows_affected(event.raw_event)
        for dagster_event in event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if rows is not None and isinstance(dagster_event, dg.Output | dg.AssetMaterialization):
                dagster_event = dagster_event.with_metadata({**dagster_event.metadata, rows[0]: rows[1]})
            yield dagster_event
