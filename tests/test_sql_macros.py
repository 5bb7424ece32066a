"""The SQL helper macros agree with the Python they mirror (dbt_project/macros/event_helpers.sql)."""

from __future__ import annotations

import re

import psycopg2

from audience_dagster.config import PROJECT_ROOT

MACROS = PROJECT_ROOT / "dbt_project" / "macros" / "event_helpers.sql"
VALUES = ["a@b.dev", "v", "vvv", " \tx@y.io\n", "\x0bkeep-v\x0b", "\f\r", "caf\u00e9v", "user-v2  "]


def identifier_key_sql() -> str:
    """The body of ``postgres__identifier_key`` with the expression as a query parameter."""
    body = re.search(
        r"macro postgres__identifier_key\(expression\) -%}\s*(.*?)\s*{%- endmacro", MACROS.read_text(), re.S
    )
    assert body, f"identifier_key not found in {MACROS}"
    return body.group(1).replace("{{ expression }}", "%s::text")


def test_identifier_key_trims_what_python_strip_trims(warehouse_url: str) -> None:
    # E'\v' is no escape in PostgreSQL: it stripped the letter v (every `.dev` email lost its v)
    sql = identifier_key_sql()
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        got = []
        for value in VALUES:
            cur.execute(f"SELECT {sql}", (value,))
            got.append(cur.fetchone()[0])
    assert got == [v.strip(" \t\n\r\f\v") or None for v in VALUES]
