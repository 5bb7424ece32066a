"""Field checks: what every field a model reads must hold, compiled into the load statement.

Pure: each :class:`FieldCheck` names a JSON path of the record, its kind and bounds, and
:func:`compile_field` turns it into SQL — an extract for the ``fields`` step of the load
statement (the parsed number or timestamp, once per record) and ``(condition, reason)`` pairs for
its CASE.
The first failing condition quarantines the record with a reason that names the field and the
problem (``wrong type: email must be a string, got a JSON object``). Nothing here can raise in
PostgreSQL: values are typed by ``jsonb_typeof`` and parsed with the ``raw.try_*`` functions,
and ranges are checked before any cast.

Kinds (the vocabulary of docs/ingestion.md):

* ``key`` — a dedup key: required, a non-blank string (or number where allowed), at most
  :data:`MAX_IDENTIFIER_BYTES` (it lands in a primary key);
* ``id`` — an identifier (user, device, customer, handle, email): a string (or number where
  allowed), at most :data:`MAX_IDENTIFIER_BYTES` (identity resolution indexes it);
* ``text`` — a string; ``name`` — a string of at most :data:`MAX_IDENTIFIER_BYTES` (event
  names become indexed event types);
* ``integer`` — a whole number (a JSON number or string of digits, as ``bigint`` reads it:
  ``12``, not ``12.0``) within ``[low, high]``;
* ``money`` — a decimal (JSON number or decimal string) from 0 to :data:`MAX_MONEY`, what
  ``numeric(14,2)`` holds after rounding; ``""`` reads as absent where ``blank_is_absent``;
* ``timestamp`` — an ISO-8601 string from 1970 to 2199 (``raw.try_timestamptz``);
* ``object``, ``array`` — that JSON type.

``required`` fields must be present and not blank; ``when`` limits a check to some records
(``o->>'type' = 'track'``).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_IDENTIFIER_BYTES = 256
MAX_MONEY = "999999999999.99"  # numeric(14,2), the raw and staging money type
WHITESPACE = r"E' \t\n\r\f\v'"
JSON_TYPES = {"string": "a string", "number": "a number", "object": "an object", "array": "an array"}


@dataclass(frozen=True)
class FieldCheck:
    """One field of a record and what it must hold (see the module docstring)."""

    path: tuple[str, ...]
    kind: str
    required: bool = False
    types: tuple[str, ...] = ("string",)
    when: str | None = None
    low: int | None = None
    high: int | None = None
    blank_is_absent: bool = False
    label: str | None = None  # how reasons name it (default: the dotted path)

    @property
    def name(self) -> str:
        return self.label or ".".join(self.path)

    @property
    def column(self) -> str:
        """The name of its typed value in the load statement (numbers, timestamps)."""
        return "n_" + self._slug

    @property
    def extract(self) -> str:
        """The name of its jsonb value in the checks."""
        return "j_" + self._slug

    @property
    def _slug(self) -> str:
        return "_".join("".join(ch if ch.isalnum() else "_" for ch in part) for part in self.path)


def key(*path: str, types: tuple[str, ...] = ("string",), when: str | None = None) -> FieldCheck:
    return FieldCheck(path, "key", required=True, types=types, when=when)


def ident(*path: str, required: bool = False, types=("string", "number"), when=None, label=None) -> FieldCheck:
    return FieldCheck(path, "id", required=required, types=types, when=when, label=label)


def text(*path: str, required: bool = False, when: str | None = None) -> FieldCheck:
    return FieldCheck(path, "text", required=required, when=when)


def name(*path: str, required: bool = False, when: str | None = None) -> FieldCheck:
    return FieldCheck(path, "name", required=required, when=when)


def integer(*path: str, low: int, high: int, required: bool = False, when: str | None = None) -> FieldCheck:
    return FieldCheck(path, "integer", required=required, types=("number", "string"), low=low, high=high, when=when)


def money(*path: str, required: bool = False, blank_is_absent: bool = False) -> FieldCheck:
    return FieldCheck(path, "money", required=required, types=("number", "string"), blank_is_absent=blank_is_absent)


def timestamp(*path: str, required: bool = False, blank_is_absent: bool = False) -> FieldCheck:
    return FieldCheck(path, "timestamp", required=required, blank_is_absent=blank_is_absent)


def json_object(*path: str, when: str | None = None) -> FieldCheck:
    return FieldCheck(path, "object", types=("object",), when=when)


def json_array(*path: str) -> FieldCheck:
    return FieldCheck(path, "array", types=("array",))


# kind -> (reason when it does not parse, the range condition over its parsed value, the range)
PARSED = {
    "integer": (
        "'wrong type: {name} must be an integer, got ' || {got}",
        "({column} BETWEEN {low} AND {high})",
        "must be {low} to {high}",
    ),
    "money": (
        "'wrong type: {name} must be a decimal, got ' || {got}",
        f"(round({{column}}, 2) BETWEEN 0 AND {MAX_MONEY})",
        f"must be 0 to {MAX_MONEY}",
    ),
    "timestamp": ("'unparseable {name}: ' || {got}", "raw.timestamp_in_range({column})", "1970 to 2199"),
}


def json_path(path: tuple[str, ...], *, as_text: bool = False, record: str = "o") -> str:
    """``o -> 'a'`` / ``o #> '{a,b}'`` (``->>`` / ``#>>`` with ``as_text``). Paths come from the
    static definitions, never from input."""
    if len(path) == 1:
        return f"{record} {'->>' if as_text else '->'} '{path[0]}'"
    return f"{record} {'#>>' if as_text else '#>'} '{{{','.join(path)}}}'"


def sample(expr: str) -> str:
    """A short quoted excerpt of an offending value for the quarantine reason."""
    return f"quote_literal(left({expr}, 40))"


def parsed(check: FieldCheck) -> str | None:
    """The typed value a number or timestamp check compares, computed once per record in the
    ``fields`` step (``n_<path>``), or None for the other kinds."""
    text = json_path(check.path, as_text=True)
    if check.kind == "integer":
        return f"raw.try_bigint({text}) AS {check.column}"
    if check.kind == "money":
        return f"raw.try_numeric({text}) AS {check.column}"
    if check.kind == "timestamp":
        return f"raw.try_timestamptz({text}) AS {check.column}"
    return None


def extract(check: FieldCheck) -> str | None:
    """The field's jsonb value, read once per record for its checks (``x.j_<path>``); None for
    a check limited to some records (``when``), which reads the field only for those."""
    return None if check.when else f"{json_path(check.path)} AS {check.extract}"


def compile_field(check: FieldCheck) -> list[tuple[str, str]]:
    """``(condition, reason)`` pairs of one field (see the module docstring), over its extract
    ``x.j_<path>`` (or the path itself under ``when``). A condition over an absent field or a
    JSON null is NULL or false, so an optional field costs one test per kind of check."""
    if check.when:
        value, text = json_path(check.path), json_path(check.path, as_text=True)
    else:
        value, text = f"x.{check.extract}", f"(x.{check.extract} #>> '{{}}')"
    typed = f"jsonb_typeof({value})"
    blank = f"coalesce(btrim({text}, {WHITESPACE}), '') = ''"
    pairs: list[tuple[str, str]] = []
    if check.required:
        pairs.append((blank, f"'missing required field: {check.name}'"))
    allowed = " or ".join(JSON_TYPES.get(t, t) for t in check.types)
    types = ", ".join(repr(t) for t in (*check.types, "null"))
    pairs.append((f"{typed} NOT IN ({types})", f"'wrong type: {check.name} must be {allowed}, got a JSON ' || {typed}"))
    # present: neither absent nor null, nor (where blank means absent) a blank string
    present = f"NOT {blank}" if check.blank_is_absent else f"{text} IS NOT NULL"
    if check.kind in ("key", "id", "name"):
        pairs.append(
            (
                f"octet_length({text}) > {MAX_IDENTIFIER_BYTES}",
                f"'{check.name} too long: ' || octet_length({text}) || ' bytes (limit {MAX_IDENTIFIER_BYTES})'",
            )
        )
    elif check.kind in PARSED:
        # the value parsed once in the fields step: unparseable, then out of range
        unparseable, in_range, bounds = PARSED[check.kind]
        column = check.column
        low, high = (check.low, check.high) if check.kind == "integer" else (None, None)
        pairs += [
            (f"{present} AND {column} IS NULL", unparseable.format(name=check.name, got=sample(text))),
            (
                "NOT " + in_range.format(column=column, low=low, high=high),
                f"'{check.name} out of range: ' || {sample(text)} || ' ({bounds.format(low=low, high=high)})'",
            ),
        ]
    if check.when:
        pairs = [(f"({check.when}) AND {cond}", reason) for cond, reason in pairs]
    return pairs


def compile_fields(
    checks: tuple[FieldCheck, ...],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(typed values for the ``fields`` step, extracts, checks) of a source's field checks."""
    values = tuple(dict.fromkeys(v for c in checks if (v := parsed(c))))
    extracts = tuple(dict.fromkeys(e for c in checks if (e := extract(c))))
    return values, extracts, tuple(pair for c in checks for pair in compile_field(c))
