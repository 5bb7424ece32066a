"""Drop a table's indexes before a bulk load and rebuild them after, as the migrations made them.

Rebuilding an index once after a COPY or an INSERT … SELECT of a whole table is several times
faster than maintaining it row by row. The definitions are read from the catalogue before the
drop (``pg_get_indexdef`` / ``pg_get_constraintdef``), so they are never typed a second time
beside the migration that owns them.
"""

from __future__ import annotations

from psycopg2 import sql

INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
FROM pg_index AS i
LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')
WHERE i.indrelid = %s::regclass AND (%s OR c.oid IS NULL)
ORDER BY c.oid IS NULL, i.indexrelid
"""


def drop_indexes(cur, table: str, *, constraints: bool = False) -> list[str]:
    """Drop ``table``'s plain indexes (and, with ``constraints``, its primary key and unique
    constraints); return the statements that recreate them, constraints first."""
    cur.execute(INDEXES, (table, constraints))
    rebuild = []
    relation = sql.SQL(".").join(sql.Identifier(part) for part in table.split("."))
    for index, indexdef, constraint, constraintdef in cur.fetchall():
        if constraint is None:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
            rebuild.append(indexdef)
        else:
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(relation, sql.Identifier(constraint)))
            rebuild.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(relation, sql.Identifier(constraint)).as_string(cur)
                + constraintdef
            )
    return rebuild
