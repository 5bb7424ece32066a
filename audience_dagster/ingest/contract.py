"""The ingest ↔ staging contract: for every error-severity dbt test on a model that reads the raw
tables, what guarantees that nothing ingestion accepts can fail it.

Pure data. Each :class:`Guarantee` names the test (:func:`dbt_test_key` of its manifest node) and how
it holds:

* ``quarantine`` — an ingest check quarantines every record that would violate it; ``example``
  is such a record (a landing-file line of ``source``) and ``reason`` a fragment of the reason
  it gets. tests/ingest/test_contract.py loads every example and checks both;
* ``dedup`` — the raw table's primary key (the source's natural key, ``ON CONFLICT DO
  NOTHING``): ``example`` is a record whose key an earlier line holds, counted as a duplicate;
* ``raw`` — a NOT NULL raw column that ingestion always fills itself (``loaded_at``,
  ``timestamp_clamped``, ``received_at``);
* ``staging`` — the staging model cannot produce a violation from any raw row (an empty
  object for a missing one, a row number, the same table on both sides of a relationship);
* ``ledger`` — the loader's own bookkeeping (``raw.loaded_files``, ``raw.quarantine``).

A new error-severity test on such a model without an entry here fails
tests/ingest/test_contract.py; a guarantee whose dbt test was dropped because the raw table's
constraint enforces it is listed in :mod:`.contract_constraints`. docs/ingestion.md is this table in prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audience_dagster.ingest.contract_constraints import CONSTRAINT_ENFORCED
from audience_dagster.ingest.contract_entries import Guarantee, segment_guarantees
from audience_dagster.ingest.contract_sources import other_guarantees, shopify_guarantees

__all__ = ["CONSTRAINT_ENFORCED", "CONTRACT", "Guarantee", "dbt_test_key", "render_contract"]


def dbt_test_key(node: Mapping[str, Any]) -> str:
    """``model.column:test`` or ``model:test(argument)`` for a manifest test node."""
    meta = node.get("test_metadata") or {"name": node["name"], "kwargs": {}}
    kwargs = meta.get("kwargs", {})
    model = (node.get("attached_node") or node["depends_on"]["nodes"][-1]).split(".")[-1]
    column = node.get("column_name") or kwargs.get("column_name")
    if column:
        return f"{model}.{column}:{meta['name']}"
    argument = kwargs.get("expression") or ",".join(kwargs.get("combination_of_columns", []))
    return f"{model}:{meta['name']}({argument})"


def _ledger_guarantees(keys: list[str]) -> list[Guarantee]:
    return [
        Guarantee(key, by="ledger", how="written by the loader itself (ingest/ledger.py, statements.py)")
        for key in keys
    ]


LEDGER_TESTS = [
    "stg_ingest__loaded_files:unique_combination_of_columns(source,file_sha256)",
    "stg_ingest__loaded_files:expression_is_true(load_status = 'loaded' or rejection_reason is not null)",
    *(f"stg_ingest__loaded_files.{c}:not_null" for c in ("file_sha256", "source", "loaded_at", "load_status")),
    "stg_ingest__loaded_files.load_status:accepted_values",
    *(
        f"stg_ingest__loaded_files.{c}:accepted_range"
        for c in ("inserted_count", "duplicate_count", "quarantined_count")
    ),
    "stg_ingest__quarantined_records:unique_combination_of_columns(file_sha256,line_no)",
    "stg_ingest__quarantined_records.quarantine_id:unique",
    *(
        f"stg_ingest__quarantined_records.{c}:not_null"
        for c in ("quarantine_id", "source", "file_path", "file_sha256", "line_no", "reason", "quarantined_at")
    ),
]

CONTRACT: tuple[Guarantee, ...] = (
    *segment_guarantees(),
    *shopify_guarantees(),
    *other_guarantees(),
    *_ledger_guarantees(LEDGER_TESTS),
)


def render_contract() -> str:
    """The contract as a Markdown table (docs/ingestion.md holds this, kept equal by a test)."""
    rows = ["| dbt test | guaranteed by | how | quarantine reason of a violating record |", "| --- | --- | --- | --- |"]
    for g in CONTRACT:
        how = g.how.replace("|", "/") + (
            " (no dbt test: the raw constraint enforces it)" if g.test in CONSTRAINT_ENFORCED else ""
        )
        rows.append(f"| `{g.test}` | {g.by} | {how} | {f'`{g.reason}`' if g.reason else ''} |")
    return "\n".join(rows) + "\n"
