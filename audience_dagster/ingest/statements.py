"""The set-based load statements: one statement validates and lands one file (pure SQL builders).

:func:`compile_load_statement` parses every line of ``pg_temp.landing_lines`` as JSON, extracts
and types the fields of a :class:`~audience_dagster.ingest.sources.Source`, decides a quarantine
reason per record (first failing check wins) and hands over to :func:`land_checked`, the tail
every source (the order CSVs too) shares: quarantine the bad records, insert the good ones with
``ON CONFLICT DO NOTHING`` on the natural key, count.

A record that was quarantined before (the same text from the same source: a re-delivered
export) is not quarantined a second time; it is counted as ``already_quarantined``.

Privacy (see README "Privacy"): with ``suppression=True`` (the loader asks for it when
``privacy.suppressed_identifiers`` is not empty), records naming an erased person's identifier
are neither stored nor quarantined, only counted; a Segment message whose own context says
do-not-track is counted and not stored, except a consent update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audience_dagster.ingest.sources import Source


def suppression_key_columns(identifiers: tuple[tuple[str, str], ...]) -> str:
    """Select-list items for ``checked``: each identifier of the record as ``suppression_key_<i>``."""
    return "".join(f",\n        {expr} AS suppression_key_{i}" for i, (_, expr) in enumerate(identifiers))


def compile_suppression(identifiers: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """(CTEs, condition): the CTEs to put after ``checked`` and the condition, over a row ``c`` of
    it, that the record names an erased person.

    Hashing is the cost, so each *distinct* identifier value of the file is hashed once and
    matched against ``privacy.suppressed_identifiers`` (``suppressed_keys``: normally a few
    values or none). A record is then compared with those values by plain text, one hashed
    look-up per identifier, and not at all when the file has none. The look-ups are hashed
    because ``suppressed_keys`` is estimated small whatever the file's size; a condition on a
    set estimated as large as the file would be scanned once per record.
    """
    keys = ", ".join(f"('{kind}', c.suppression_key_{i})" for i, (kind, _) in enumerate(identifiers))
    per_record = " OR ".join(
        f"c.suppression_key_{i} IN (SELECT value FROM suppressed_keys WHERE identifier_type = '{kind}')"
        for i, (kind, _) in enumerate(identifiers)
    )
    ctes = f"""file_keys AS (
    SELECT DISTINCT k.identifier_type, k.value
    FROM checked AS c
    CROSS JOIN LATERAL (VALUES {keys}) AS k (identifier_type, value)
    WHERE k.value IS NOT NULL
),
suppressed_keys AS MATERIALIZED (
    SELECT identifier_type, value
    FROM file_keys
    WHERE (identifier_type, privacy.identifier_sha256(identifier_type, value))
        IN (SELECT identifier_type, value_sha256 FROM privacy.suppressed_identifiers)
),
"""
    return ctes, f"coalesce(EXISTS (SELECT 1 FROM suppressed_keys) AND ({per_record}), false)"


def compile_load_statement(source: Source, *, suppression: bool = False, strict: bool = False) -> str:
    """The single statement that validates and lands ``pg_temp.landing_lines`` for a source.

    Each ``LATERAL (… OFFSET 0)`` is an optimisation fence: without it the planner inlines the
    subqueries and re-parses the JSON text at every reference to ``o`` (40× slower).
    ``suppression``: also drop the records of erased people (:func:`compile_suppression`; the
    loader asks for it only when the suppression list is not empty). ``strict``: validate every
    line as jsonb before parsing it (``raw.try_jsonb_strict``): never raises, 3× the JSON cost;
    the loader falls back to it when the fast statement raises on a number jsonb cannot hold.

    Bound parameters: source, file_path, file_sha256, loaded_at, future_tolerance (interval),
    skip_lines (bigint[]: lines already quarantined by the reader). Returns one row:
    (records, valid, inserted, quarantined, already_quarantined, suppressed, do_not_track).
    """
    fields = ",\n            ".join(source.all_fields)
    derived = ",\n            ".join(source.derived) or "NULL AS nothing"
    checks = "\n".join(f"            WHEN {cond} THEN {reason}" for cond, reason in source.all_checks)
    names = ", ".join(name for name, _ in source.columns)
    values = ",\n        ".join(f"{expr} AS {name}" for name, expr in source.columns)
    keys = suppression_key_columns(source.identifiers) if suppression else ""
    parse = "raw.try_jsonb_strict" if strict else "raw.try_jsonb"
    # with post_checks, the per-record reason is `field_reason` and they define `checked`
    first, reason = ("checked_fields", "field_reason") if source.post_checks else ("checked", "reason")
    post = f"{source.post_checks}," if source.post_checks else ""
    extracts = ",\n                ".join(source.extracts) or "NULL AS nothing"
    return f"""
WITH {first} AS MATERIALIZED (
    SELECT
        l.line_no,
        r.o,
        f.*,
        d.*,
        v.{reason},
        CASE WHEN r.o IS NULL THEN false ELSE coalesce({source.do_not_track}, false) END AS do_not_track{keys}
    FROM pg_temp.landing_lines AS l
    CROSS JOIN LATERAL (SELECT {parse}(l.body) AS j OFFSET 0) AS p
    CROSS JOIN LATERAL (
        SELECT p.j, CASE WHEN jsonb_typeof(p.j) = 'object' THEN p.j END AS o OFFSET 0
    ) AS r
    CROSS JOIN LATERAL (
        SELECT
            {fields}
        OFFSET 0
    ) AS f
    CROSS JOIN LATERAL (
        SELECT
            {derived}
        OFFSET 0
    ) AS d
    -- the checks, over the fields read once (x: not carried through the statement)
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN r.j IS NULL THEN raw.json_problem(l.body)
            WHEN r.o IS NULL THEN 'not a JSON object: got a JSON ' || jsonb_typeof(r.j)
{checks}
        END AS {reason}
        FROM (
            SELECT
                {extracts}
            OFFSET 0
        ) AS x
    ) AS v
    WHERE btrim(l.body, E' \t\r\n') <> '' AND l.line_no <> ALL(%(skip_lines)s::bigint[])
),
{post}
{
        land_checked(
            source.table,
            names,
            values,
            source.key,
            "pg_temp.landing_lines",
            "body",
            identifiers=source.identifiers if suppression else None,
            extras=source.landing_extras,
        )
    }"""


QUARANTINE_INSERT = """INSERT INTO raw.quarantine
        (source, file_path, file_sha256, line_no, reason, record, record_sha256)
    SELECT %(source)s, %(file_path)s, %(file_sha256)s, line_no, reason, record, raw.record_sha256(record)"""


def land_checked(
    table: str,
    names: str,
    values: str,
    key: str,
    landing_table: str,
    record_column: str,
    *,
    identifiers: tuple[tuple[str, str], ...] | None = None,
    extras: str = "",
) -> str:
    """The tail every load statement shares, after a CTE ``checked`` (line_no, reason,
    do_not_track, …, and ``suppression_key_<i>`` for each of ``identifiers`` when given).

    Records are, in this order of precedence: *suppressed* (with ``identifiers``: they name an
    erased person, :func:`compile_suppression`; neither stored nor quarantined), *do-not-track*
    (counted, not stored), *quarantined* (a reason; their original text from ``landing_table``;
    with ``identifiers``, a bad record whose text holds a suppressed value counts as suppressed
    instead; one quarantined before, the same text from the same source, counts as
    already_quarantined), or inserted into ``table`` deduplicated on ``key``. Returns one row:
    (records, valid, inserted, quarantined, already_quarantined, suppressed, do_not_track).
    ``extras``: data-modifying CTEs that run with the landing (``landed`` yields ``key``).
    """
    if identifiers:
        suppression, suppressed = compile_suppression(identifiers)
        mentions = f"privacy.mentions_suppressed(l.{record_column})"
    else:
        suppression, suppressed, mentions = "", "false", "false"
    return f"""{suppression}flagged AS NOT MATERIALIZED (
    SELECT c.*, {suppressed} AS suppressed FROM checked AS c
),
candidates AS MATERIALIZED (
    SELECT c.line_no, c.reason, l.{record_column} AS record, {mentions} AS mentions_suppressed
    FROM flagged AS c
    JOIN {landing_table} AS l USING (line_no)
    WHERE c.reason IS NOT NULL AND NOT c.suppressed AND NOT c.do_not_track
),
quarantined AS (
    {QUARANTINE_INSERT}
    FROM candidates
    WHERE NOT mentions_suppressed
    ON CONFLICT DO NOTHING
    RETURNING 1
),
landed AS (
    INSERT INTO {table} ({names}, file_sha256, line_no, loaded_at)
    SELECT
        {values},
        %(file_sha256)s, line_no, %(loaded_at)s::timestamptz
    FROM flagged
    WHERE reason IS NULL AND NOT suppressed AND NOT do_not_track
    ON CONFLICT ({key}) DO NOTHING
    RETURNING {key} AS key
),
{extras + "," if extras else ""}
counted AS (
    SELECT
        count(*) AS records,
        count(*) FILTER (WHERE reason IS NULL AND NOT suppressed AND NOT do_not_track) AS valid,
        count(*) FILTER (WHERE suppressed) AS suppressed,
        count(*) FILTER (WHERE do_not_track AND NOT suppressed) AS do_not_track
    FROM (SELECT reason, do_not_track, suppressed FROM flagged OFFSET 0) AS f  -- flag once per record
)
SELECT
    records,
    valid,
    (SELECT count(*) FROM landed) AS inserted,
    (SELECT count(*) FROM quarantined) AS quarantined,
    (SELECT count(*) FROM candidates WHERE NOT mentions_suppressed) - (SELECT count(*) FROM quarantined)
        AS already_quarantined,
    suppressed + (SELECT count(*) FROM candidates WHERE mentions_suppressed) AS suppressed,
    do_not_track
FROM counted
"""


def compile_reader_quarantine(rows: str, *, suppression: bool = False) -> str:
    """Quarantine the records a reader rejected before SQL saw them (invalid UTF-8, a broken CSV
    row): ``rows`` is a query yielding (line_no, reason, record). With ``suppression``, a record
    whose text holds a suppressed value is counted instead of stored.

    Bound parameters: source, file_path, file_sha256 and those of ``rows``. Returns one row:
    (quarantined, already_quarantined, suppressed).
    """
    mentions = "privacy.mentions_suppressed(record)" if suppression else "false"
    return f"""
WITH rejected AS MATERIALIZED (
    SELECT line_no, reason, record, {mentions} AS mentions_suppressed
    FROM ({rows}) AS r (line_no, reason, record)
),
quarantined AS (
    {QUARANTINE_INSERT}
    FROM rejected
    WHERE NOT mentions_suppressed
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM quarantined),
    (SELECT count(*) FROM rejected WHERE NOT mentions_suppressed) - (SELECT count(*) FROM quarantined),
    (SELECT count(*) FROM rejected WHERE mentions_suppressed)
"""
