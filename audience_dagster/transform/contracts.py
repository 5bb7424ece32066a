"""The marts' columns as their dbt contracts declare them (``data_type`` and the model's
``column_defaults`` in the models' yml files), as ``CREATE TABLE`` statements: for benchmarks
that load synthetic rows into a mart without building it, so the table they score or train on
is typed exactly like the one dbt builds — one source for the types, the dbt contract.

Only the columns and their defaults are taken: constraints, indexes and partitions are dbt's
(a benchmark loads a subset of the columns)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from audience_dagster.config import DBT_PROJECT_DIR


@cache
def _models() -> dict[str, dict]:
    models: dict[str, dict] = {}
    for path in sorted(Path(DBT_PROJECT_DIR, "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []:
            models[model["name"]] = model
    return models


def contract_columns(model: str) -> list[tuple[str, str, str | None]]:
    """(column, data type, default expression or None) of a model with an enforced contract."""
    spec = _models().get(model)
    if spec is None or not (spec.get("config", {}).get("contract", {}) or {}).get("enforced"):
        raise KeyError(f"dbt model {model!r} has no enforced contract in {DBT_PROJECT_DIR}/models")
    defaults = spec["config"].get("column_defaults", {}) or {}
    return [(c["name"], c["data_type"], defaults.get(c["name"])) for c in spec["columns"]]


def create_table_sql(model: str, schema: str = "marts", extra: tuple[str, ...] = ()) -> str:
    """``DROP`` + ``CREATE TABLE <schema>.<model>`` with the contract's columns, then ``extra``
    column definitions (what a benchmark's own path writes beside the mart's columns)."""
    columns = [
        f'"{name}" {data_type}' + (f" DEFAULT {default}" if default is not None else "")
        for name, data_type, default in contract_columns(model)
    ]
    body = ",\n    ".join([*columns, *extra])
    return (
        f"CREATE SCHEMA IF NOT EXISTS {schema};\nDROP TABLE IF EXISTS {schema}.{model} CASCADE;\n"
        f"CREATE TABLE {schema}.{model} (\n    {body}\n);\n"
    )
