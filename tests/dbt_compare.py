"""Same rows before and after a change to the dbt project: a one-off check, not a test.

    python tests/dbt_compare.py snapshot   # after building the old models: copy them aside
    (change the project, `dbt build` again on the same data)
    python tests/dbt_compare.py compare    # every copied relation against its rebuild

`snapshot` copies every relation of the schemas staging and intermediate and the dbt marts into
schema compare_old; `compare` checks each rebuilt relation has the same columns in the same order
and the same rows (EXCEPT ALL both ways: duplicates count), columns that hold the build's clock
(updated_at) left out. Prints one line per relation and a summary line; exits 1 on a difference.
Uses the warehouse the settings name (the worktree's embedded PostgreSQL by default).
"""

from __future__ import annotations

import sys

from psycopg2 import sql

from audience_dagster.config import load_settings
from audience_dagster.warehouse.connection import connection, resolve_warehouse

SNAPSHOT = "compare_old"
MARTS = (
    "audience_events",
    "audience_profile_base",
    "audience_profiles",
    "cohort_retention_matrix",
    "report_profile_summary_by_lifecycle",
    "report_rfm_segment_analysis",
    "report_segment_performance",
    "report_wtp_distribution",
)
CLOCK_COLUMNS = {"updated_at"}


def relations(cur) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('staging', 'intermediate') OR (table_schema = 'marts' AND table_name = ANY(%s))"
        " ORDER BY 1, 2",
        (list(MARTS),),
    )
    return cur.fetchall()


def columns(cur, schema: str, name: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
        " ORDER BY ordinal_position",
        (schema, name),
    )
    return [r[0] for r in cur.fetchall()]


def snapshot(cur) -> None:
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}").format(sql.Identifier(SNAPSHOT)))
    for schema, name in relations(cur):
        cur.execute(
            sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
                sql.Identifier(SNAPSHOT, f"{schema}__{name}"), sql.Identifier(schema, name)
            )
        )
        print(f"copied {schema}.{name}")


def compare(cur) -> int:
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (SNAPSHOT,))
    differing = compared = 0
    for (copy,) in cur.fetchall():
        schema, name = copy.split("__", 1)
        old, new = columns(cur, SNAPSHOT, copy), columns(cur, schema, name)
        if old != new:
            print(f"{schema}.{name}: columns differ: old={old} new={new}")
            differing += 1
            continue
        keep = sql.SQL(", ").join(sql.Identifier(c) for c in old if c not in CLOCK_COLUMNS)
        old_rel, new_rel = sql.Identifier(SNAPSHOT, copy), sql.Identifier(schema, name)
        counts = []
        for query in (
            sql.SQL("SELECT count(*) FROM {}").format(old_rel),
            sql.SQL("SELECT count(*) FROM {}").format(new_rel),
            sql.SQL("SELECT count(*) FROM (SELECT {0} FROM {1} EXCEPT ALL SELECT {0} FROM {2}) d").format(
                keep, old_rel, new_rel
            ),
            sql.SQL("SELECT count(*) FROM (SELECT {0} FROM {1} EXCEPT ALL SELECT {0} FROM {2}) d").format(
                keep, new_rel, old_rel
            ),
        ):
            cur.execute(query)
            counts.append(cur.fetchone()[0])
        rows_old, rows_new, only_old, only_new = counts
        same = only_old == only_new == 0 and rows_old == rows_new
        differing += not same
        compared += 1
        verdict = "same" if same else "DIFF"
        print(f"{verdict} {schema}.{name}: rows {rows_old} -> {rows_new}, only_old={only_old} only_new={only_new}")
    print(f"relations_compared={compared} relations_differing={differing}")
    return 1 if differing else 0


def main() -> int:
    warehouse = resolve_warehouse(load_settings())
    with connection(warehouse.url) as conn, conn.cursor() as cur:
        if sys.argv[1:] == ["snapshot"]:
            snapshot(cur)
            conn.commit()
            return 0
        if sys.argv[1:] == ["compare"]:
            return compare(cur)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
