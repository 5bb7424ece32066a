"""Find everything that is one person: their profile ids and all their identifiers.

Through the identity map (identifier → profile id) and the profile registry (a retired id
resolves to ``current_profile_id``; every id retired into the current one belongs to the same
person), a lookup becomes the set of profile ids and every identifier the map holds for them.
Blocked (junk) identifiers and shared devices never name a person. Without an identity map,
or for an identifier the map does not know, only the records naming that identifier are found.
A handful of queries per request; nothing per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from audience_dagster.identity.normalize import blocked_mask
from audience_dagster.privacy.identifiers import (
    Lookup,
    PersonNotFoundError,
    PrivacyError,
    identifier_params,
    is_uuid,
    profile_id_params,
    text_search_pattern,
    text_search_values,
)
from audience_dagster.privacy.registry import PERSONAL_TABLES, PersonalTable, Predicates, compile_predicates

IDENTITY_MAP = "identity.identity_map"
PROFILES = "identity.profiles"


@dataclass(frozen=True)
class Person:
    """One person as found: profile ids, normalised identifiers, and how they were found."""

    lookup: Lookup
    profile_ids: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]
    resolved_via: str  # 'identity_map' | 'profile_registry' | 'records' | 'suppression'
    already_erased: bool = False

    def params(self) -> dict[str, object]:
        """Bound parameters for :func:`~audience_dagster.privacy.registry.compile_predicates`."""
        pattern = text_search_pattern(text_search_values(self.identifiers))
        return {**profile_id_params(self.profile_ids), **identifier_params(self.identifiers), "text_pattern": pattern}

    def predicates(self, spec: PersonalTable, columns: dict[str, str]) -> Predicates:
        params = self.params()
        return compile_predicates(
            spec,
            columns,
            {kind for kind, _ in self.identifiers},
            profile_id_types=[k for k in ("uuid", "int8", "text") if params[f"profile_ids_{k}"]],
            text_search=params["text_pattern"] is not None,
        )


def table_columns(cur, tables: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{table: {column: udt_name}}`` for the given tables that exist (one catalog query)."""
    cur.execute(
        "SELECT table_schema || '.' || table_name, column_name, udt_name FROM information_schema.columns"
        " WHERE table_schema || '.' || table_name = ANY(%s)",
        (list(tables),),
    )
    found: dict[str, dict[str, str]] = {}
    for table, name, udt in cur.fetchall():
        found.setdefault(table, {})[name] = udt
    return found


def resolve_person(cur, lookup: Lookup, catalog: dict[str, dict[str, str]]) -> Person:
    """The person ``lookup`` names; raises :class:`PersonNotFoundError` when nothing is held
    about them (and they were not erased before), :class:`PrivacyError` for junk identifiers.

    ``catalog``: :func:`table_columns` of the registered tables.
    """
    map_columns = catalog.get(IDENTITY_MAP, {})
    map_profile = next((c for c in ("profile_id", "profile_key") if c in map_columns), None)
    identifiers: list[tuple[str, str]] = []
    start: str | None = None
    if lookup.is_profile:
        start = lookup.value.strip()
    else:
        cur.execute("SELECT privacy.normalize_identifier(%s, %s)", (lookup.identifier_type, lookup.value))
        value = cur.fetchone()[0]
        if value is None:
            raise PrivacyError(f"{lookup.identifier_type} {lookup.value!r} is not a valid value of that type")
        if blocked_mask([lookup.identifier_type], [value])[0]:
            raise _blocked(lookup.identifier_type, value)
        identifiers.append((lookup.identifier_type, value))
        if map_profile:
            start = _profile_of_identifier(cur, map_profile, lookup.identifier_type, value)

    profile_ids = [start] if start else []
    known = bool(start) and not lookup.is_profile  # the identity map named a profile
    erased = False
    if start and PROFILES in catalog and is_uuid(start):
        family, erased = _registry_family(cur, start)
        if family:
            profile_ids, known = family, True
    if profile_ids and map_profile:
        identifiers.extend(_identifiers_of(cur, map_profile, map_columns[map_profile], profile_ids))
    via = "profile_registry" if known and lookup.is_profile else "identity_map" if known else "records"
    person = Person(lookup, tuple(sorted(set(profile_ids))), tuple(sorted(set(identifiers))), via, erased)
    if known or _has_rows(cur, person, catalog):
        return person
    if _is_suppressed(cur, identifiers):
        return replace(person, resolved_via="suppression", already_erased=True)
    raise PersonNotFoundError(
        f"nothing is held about {lookup.identifier_type} {lookup.value!r}: it is in no registered table"
        + (" and not in the identity map" if map_profile else "")
        + "; check the value (emails are matched trimmed and lower-cased)"
    )


def _profile_of_identifier(cur, map_profile: str, kind: str, value: str) -> str | None:
    cur.execute(
        f"SELECT {map_profile}::text, blocked, shared_device FROM {IDENTITY_MAP}"
        " WHERE identifier_type = %s AND identifier_value = %s",
        (kind, value),
    )
    row = cur.fetchone()
    if row is None:
        return None
    profile, blocked, shared = row
    if blocked:
        raise _blocked(kind, value)
    if shared:
        raise PrivacyError(
            f"{kind} {value!r} is a device shared by several people; name the person by another identifier"
        )
    return profile


def _blocked(kind: str, value: str) -> PrivacyError:
    return PrivacyError(
        f"{kind} {value!r} is a blocked junk identifier (it names no one: many records carry it); "
        "name the person by another identifier"
    )


def _registry_family(cur, start: str) -> tuple[list[str], bool]:
    """Every registry id of the person ``start`` belongs to (the current id and the ids retired
    into it), and whether the current one is already erased."""
    cur.execute(
        f"""
        WITH start AS (
            SELECT coalesce(current_profile_id, profile_id) AS current_id
            FROM {PROFILES} WHERE profile_id = %s::uuid
        )
        SELECT p.profile_id::text, p.profile_id = s.current_id AND p.status = 'erased'
        FROM {PROFILES} AS p, start AS s
        WHERE p.profile_id = s.current_id OR p.current_profile_id = s.current_id OR p.merged_into = s.current_id
        """,
        (start,),
    )
    rows = cur.fetchall()
    return [r[0] for r in rows], any(r[1] for r in rows)


def _identifiers_of(cur, map_profile: str, udt: str, profile_ids: list[str]) -> list[tuple[str, str]]:
    params = profile_id_params(profile_ids)
    kind = {"uuid": "uuid", "int8": "int8", "int4": "int8"}.get(udt, "text")
    cast = "::text" if kind == "text" else ""
    cur.execute(
        f"SELECT identifier_type, identifier_value FROM {IDENTITY_MAP}"
        f" WHERE {map_profile}{cast} = ANY(%s::{kind}[]) AND NOT blocked AND NOT shared_device",
        (params[f"profile_ids_{kind}"],),
    )
    return [(kind_, value) for kind_, value in cur.fetchall()]


def _has_rows(cur, person: Person, catalog: dict[str, dict[str, str]]) -> bool:
    """Whether any registered table holds a row about ``person`` (stops at the first)."""
    params = person.params()
    for spec in PERSONAL_TABLES:
        if spec.table not in catalog:
            continue
        where = person.predicates(spec, catalog[spec.table]).any
        if where:
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {spec.table} WHERE {where})", params)
            if cur.fetchone()[0]:
                return True
    return False


def _is_suppressed(cur, identifiers: list[tuple[str, str]]) -> bool:
    if not identifiers:
        return False
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM privacy.suppressed_identifiers AS s"
        " JOIN unnest(%s::text[], %s::text[]) AS i (identifier_type, value)"
        " ON s.identifier_type = i.identifier_type"
        " AND s.value_sha256 = privacy.identifier_sha256(i.identifier_type, i.value))",
        ([k for k, _ in identifiers], [v for _, v in identifiers]),
    )
    return bool(cur.fetchone()[0])
