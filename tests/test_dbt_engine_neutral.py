"""The dbt project is ready for a second engine: no PostgreSQL-only idiom in the models.

Every PostgreSQL-only operator, function, type name or clause lives in a macro dispatched on the
adapter (``adapter.dispatch('<name>', 'audience')``), in its ``postgres__<name>`` body (or in a
materialization for ``adapter='postgres'``); a second engine is a set of ``<adapter>__<name>``
macros. Pure: reads the files, no database, no dbt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audience_dagster.config import PROJECT_ROOT

DBT = PROJECT_ROOT / "dbt_project"
MAX_MODEL_LINES = 200

# (what, pattern): checked on the SQL with comments removed, Jinja included (a PostgreSQL
# operator passed to a macro as a string is still in the model)
TOKENS: tuple[tuple[str, str], ...] = (
    ("a :: cast", r"::"),
    ("a jsonb operator (->, ->>, #>, #>>)", r"->>?|#>>?"),
    ("the jsonb ? operator", r"\?[|&]?\s*'"),
    ("a jsonb function or type", r"\b(?:to_)?jsonb\w*"),
    ("a json function", r"\bjson_(?:build_object|agg|object_agg|array_elements\w*|typeof|strip_nulls)\s*\("),
    ("pg_input_is_valid / a pg_ function", r"\bpg_\w+\s*\("),
    ("DISTINCT ON", r"\bdistinct\s+on\b"),
    ("extract(epoch ...)", r"\bextract\s*\(\s*epoch\b"),
    ("unnest", r"\bunnest\s*\("),
    ("generate_series", r"\bgenerate_series\s*\("),
    ("array_agg (ordered aggregates differ)", r"\barray_agg\s*\("),
    ("an ARRAY constructor", r"\barray\s*[\[(]"),
    ("an array subscript", r"\w\]?\[\d+\]"),
    ("LATERAL", r"\blateral\b"),
    ("WITH ORDINALITY", r"\bwith\s+ordinality\b"),
    ("a regexp_ function (flags and back-references differ)", r"\bregexp_\w+\s*\("),
    ("substring(... from <regex>)", r"\bsubstring\s*\([^)]*\bfrom\s+'"),
    ("an E'' escape string", r"\bE'"),
    ("an interval literal", r"\binterval\s+'"),
    ("a CTE MATERIALIZED hint", r"\bas\s+(?:not\s+)?materialized\b"),
    ("SET LOCAL", r"\bset\s+local\b"),
    ("an index method", r"\busing\s+(?:gin|gist|brin|hash|btree)\b"),
    ("md5()", r"\bmd5\s*\("),
    ("a PostgreSQL type name", r"\bas\s+(?:text|uuid|jsonb?|timestamptz|bytea|inet)\b(?!\s*\()"),
    ("a PostgreSQL array type", r"\b(?:text|uuid|timestamptz|integer|bigint)\s*\[\s*\]"),
    ("a '{}' literal (PostgreSQL array or jsonb)", r"'\{\}'"),
)
# `~` is string concatenation in Jinja: the regex operators are looked for outside Jinja only
REGEX_OPERATOR = ("a regex operator (~, ~*, !~, !~*)", r"!?~\*?")

COMMENTS = re.compile(r"\{#.*?#\}|/\*.*?\*/|--[^\n]*", re.S)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
BLOCK = re.compile(
    r"\{%-?\s*(?P<kind>macro|materialization|test)\s+(?P<name>\w+)(?P<head>.*?)-?%\}"
    r"(?P<body>.*?)\{%-?\s*end(?P=kind)\s*-?%\}",
    re.S,
)


def _blank(match: re.Match[str]) -> str:
    """The matched text as blanks, newlines kept (line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_comments(sql: str) -> str:
    return COMMENTS.sub(_blank, sql)


def engine_specific(match: re.Match[str]) -> bool:
    """A block that may hold PostgreSQL idioms: a ``postgres__`` macro or a PostgreSQL materialization."""
    if match.group("kind") == "macro":
        return match.group("name").startswith("postgres__")
    return match.group("kind") == "materialization" and re.search(
        r"adapter\s*=\s*['\"]postgres['\"]", match.group("head")
    )


def strip_engine_specific(sql: str) -> str:
    return BLOCK.sub(lambda m: _blank(m) if engine_specific(m) else m.group(0), sql)


def findings(sql: str) -> list[tuple[int, str, str]]:
    """(line, what, text) of every PostgreSQL-only token in `sql` (comments already removed)."""
    found = []
    outside_jinja = JINJA.sub(_blank, sql)
    checks = [(what, pattern, sql) for what, pattern in TOKENS] + [(*REGEX_OPERATOR, outside_jinja)]
    for what, pattern, text in checks:
        for match in re.finditer(pattern, text, re.I):
            line = text.count("\n", 0, match.start()) + 1
            found.append((line, what, match.group(0)))
    return sorted(found)


def report(path: Path, sql: str) -> list[str]:
    lines = sql.splitlines()
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {what} ({text!r}) in: {lines[line - 1].strip()}"
        for line, what, text in findings(sql)
    ]


def model_files() -> list[Path]:
    return sorted((DBT / "models").rglob("*.sql"))


def macro_files() -> list[Path]:
    return sorted((DBT / "macros").rglob("*.sql"))


def test_no_postgres_only_idiom_in_the_models() -> None:
    problems = [p for path in model_files() for p in report(path, strip_comments(path.read_text()))]
    assert not problems, (
        "PostgreSQL-only SQL in dbt models; use (or add) an adapter-dispatched macro in dbt_project/macros/"
        " (jsonb_helpers.sql, sql_dialect.sql, safe_casts.sql):\n" + "\n".join(problems)
    )


def test_macros_hold_postgres_idioms_only_in_postgres_implementations() -> None:
    problems = [
        p for path in macro_files() for p in report(path, strip_engine_specific(strip_comments(path.read_text())))
    ]
    assert not problems, (
        "PostgreSQL-only SQL outside a postgres__ macro (or the postgres materialization):\n" + "\n".join(problems)
    )


def test_every_dispatched_macro_has_a_postgres_and_a_default_implementation() -> None:
    text = "\n".join(path.read_text() for path in macro_files())
    defined = set(re.findall(r"\{%-?\s*macro\s+(\w+)\s*\(", text))
    dispatched = set(re.findall(r"adapter\.dispatch\(\s*'(\w+)'\s*,\s*'audience'\s*\)", text))
    assert len(dispatched) >= 30
    missing = sorted(
        f"{prefix}__{name}"
        for name in dispatched
        for prefix in ("postgres", "default")
        if f"{prefix}__{name}" not in defined
    )
    assert not missing, missing


def test_no_model_is_a_monolith() -> None:
    long = {
        str(p.relative_to(DBT)): n for p in model_files() if (n := len(p.read_text().splitlines())) > MAX_MODEL_LINES
    }
    assert not long, f"models over {MAX_MODEL_LINES} lines (split them into intermediates): {long}"


@pytest.mark.parametrize(
    "sql",
    [
        "select payload ->> 'email' from raw",
        "select payload -> 'context' from raw",
        "select payload #>> '{}' from raw",
        "where properties ? 'customer'",
        "select '{}'::jsonb",
        "select jsonb_build_object('a', 1)",
        "select to_jsonb(categories)",
        "select pg_input_is_valid(x, 'uuid')",
        "select distinct on (profile_id) *",
        "select extract(epoch from occurred_at)",
        "select unnest(tags)",
        "select * from generate_series(1, 3)",
        "select array_agg(tag order by rank)",
        "select array(select 1)",
        "select categories[1]",
        "cross join lateral (values (1)) as v (x)",
        "from jsonb_array_elements(x) with ordinality as e (value, position)",
        "select regexp_replace(x, 'a', 'b', 'g')",
        "select substring(url from '/c/([^/]+)')",
        "select btrim(x, E' \\t')",
        "where gap > interval '30 minutes'",
        "with events as not materialized (select 1)",
        "with events as materialized (select 1)",
        "set local enable_nestloop = off",
        "create index i on t using gin (interests)",
        "select md5(key)",
        "select cast(null as text)",
        "select cast(x as timestamptz)",
        "select cast(array[] as text[])",
        "select coalesce(interests, '{}')",
        "where page_url ~ '/collections/sale'",
        "where user_agent !~* 'mobile'",
    ],
)
def test_the_check_finds_each_postgres_idiom(sql: str) -> None:
    assert findings(sql), sql


def test_the_check_leaves_portable_sql_and_jinja_alone() -> None:
    portable = (
        "select {{ json_text('payload', ['traits', 'email']) }} as email,\n"
        "    {{ 'a' ~ 'b' }}, cast(x as numeric(10,2)), cast(y as bigint), count(*) filter (where ok),\n"
        "    {{ try_cast(json_text('payload', 'id'), 'uuid') }}, lower(btrim(email)) as text_value\n"
        "from {{ ref('stg_segment__identifies') }}"
    )
    assert findings(portable) == []


def test_postgres_implementations_are_exempt_and_others_are_not() -> None:
    macros = (
        "{% macro postgres__x(e) -%} {{ e }} ->> 'k' {%- endmacro %}\n"
        "{% macro y(e) -%} {{ e }}::text {%- endmacro %}\n"
        "{% materialization t, adapter='postgres' %} select '{}'::jsonb {% endmaterialization %}"
    )
    assert [(line, what) for line, what, _ in findings(strip_engine_specific(macros))] == [(2, "a :: cast")]
