"""The activation tables (``activation/sql/*.sql``, applied in file order; idempotent)."""

from __future__ import annotations

from importlib import resources

SQL = resources.files("audience_dagster.activation").joinpath("sql")


def schema_files() -> list[str]:
    """The DDL files in the order they apply (one migration each)."""
    return sorted(f.name for f in SQL.iterdir() if f.name.endswith(".sql") and f.name[:3].isdigit())


def statement(name: str) -> str:
    """A static statement of ``activation/sql/<name>.sql``."""
    return SQL.joinpath(f"{name}.sql").read_text()


def ensure_schema(cur) -> None:
    """Create the activation schema and the marts tables it writes (recommendations,
    next_best_actions, price_offers)."""
    for name in schema_files():
        cur.execute(SQL.joinpath(name).read_text())
