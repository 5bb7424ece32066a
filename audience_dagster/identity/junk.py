"""The junk list: identifier values that never link anything, for every identifier type.

The shipped list is ``junk_values.yaml`` beside this module (documented there and in
``docs/identity.md``); users extend it with a YAML file of the same layout
(``AUDIENCE_IDENTITY_JUNK_FILE``) or rows in ``identity.junk_values``. :func:`junk_codes`
applies it to whole columns with numpy string ufuncs (no per-value Python): each value gets the
code of the first rule that matched (:data:`JUNK_REASONS`), 0 when it is not junk.

Values are compared after :func:`clean_values`: every Unicode whitespace and zero-width
character stripped at both ends, lower-cased.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import yaml

from audience_dagster.errors import ConfigError

SHIPPED_FILE = Path(__file__).with_name("junk_values.yaml")
# every character Python calls whitespace, plus the zero-width ones forms and copy-paste leave
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()) + "\u200b\u200c\u200d\u2060\ufeff"
_STRING = np.dtypes.StringDType()
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

# reason codes, in the order the rules are tried
JUNK_REASONS: tuple[str, ...] = (
    "",
    "missing",
    "junk_list:value",
    "junk_list:same_character",
    "junk_list:template",
    "junk_list:email_local_part",
    "junk_list:email_domain",
    "junk_list:phone_same_digit",
    "junk_list:phone_sequential",
    "junk_list:pattern",
)
_CODE = {reason: code for code, reason in enumerate(JUNK_REASONS)}
_TYPE_KEYS = {"values", "local_parts", "domains", "all_same_digit", "sequential_digits"}
_TOP_KEYS = {"version", "values", "all_same_character", "templates", "types", "patterns"}


class JunkListError(ConfigError, ValueError):
    """A junk list file or table is malformed (names the file and the key)."""


def _frozen(values: Iterable[object]) -> frozenset[str]:
    return frozenset(clean_text(str(v)) for v in values)


def clean_text(value: str) -> str:
    """One value as the junk list compares it (see :func:`clean_values`)."""
    return value.strip(WHITESPACE).lower()


@dataclass(frozen=True)
class JunkList:
    """What is junk. ``values`` apply to every type, ``type_values`` to one type each."""

    values: frozenset[str] = frozenset()
    type_values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    all_same_character: bool = False
    templates: tuple[tuple[str, str], ...] = ()
    email_local_parts: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    phone_all_same_digit: bool = False
    phone_sequential_digits: int = 0
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "type_values", MappingProxyType(dict(self.type_values)))
        object.__setattr__(self, "patterns", MappingProxyType(dict(self.patterns)))

    def extend(self, other: JunkList) -> JunkList:
        """Both lists together (flags: either one's; sequential digits: the shorter run)."""
        types = set(self.type_values) | set(other.type_values)
        runs = [r for r in (self.phone_sequential_digits, other.phone_sequential_digits) if r]
        return JunkList(
            values=self.values | other.values,
            type_values={
                t: self.type_values.get(t, frozenset()) | other.type_values.get(t, frozenset()) for t in types
            },
            all_same_character=self.all_same_character or other.all_same_character,
            templates=tuple(dict.fromkeys(self.templates + other.templates)),
            email_local_parts=self.email_local_parts | other.email_local_parts,
            email_domains=self.email_domains | other.email_domains,
            phone_all_same_digit=self.phone_all_same_digit or other.phone_all_same_digit,
            phone_sequential_digits=min(runs) if runs else 0,
            patterns={
                t: self.patterns.get(t, ()) + other.patterns.get(t, ())
                for t in set(self.patterns) | set(other.patterns)
            },
            sources=self.sources + other.sources,
        )

    def with_rows(self, rows: Iterable[tuple[str, str]], source: str = "identity.junk_values") -> JunkList:
        """Add ``(identifier_type, value)`` rows; type ``'*'`` (or empty) means every type."""
        everywhere, typed = set(), {}
        for kind, value in rows:
            if not kind or kind.strip() == "*":
                everywhere.add(clean_text(value))
            else:
                typed.setdefault(kind.strip(), set()).add(clean_text(value))
        extra = JunkList(values=frozenset(everywhere), type_values={t: frozenset(v) for t, v in typed.items()})
        return replace(self.extend(extra), sources=(*self.sources, source))


def parse_junk_list(data: object, source: str) -> JunkList:
    """A :class:`JunkList` from the YAML layout of ``junk_values.yaml``; raises
    :class:`JunkListError` naming ``source`` and the bad key."""
    if not isinstance(data, Mapping):
        raise JunkListError(f"{source}: a junk list is a mapping with keys {sorted(_TOP_KEYS)}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise JunkListError(f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    types = data.get("types") or {}
    if not isinstance(types, Mapping):
        raise JunkListError(f"{source}: 'types' must map an identifier type to its rules")
    type_values, local_parts, domains = {}, frozenset(), frozenset()
    same_digit, run = False, 0
    for kind, rules in types.items():
        rules = rules or {}
        if not isinstance(rules, Mapping) or set(rules) - _TYPE_KEYS:
            raise JunkListError(f"{source}: types.{kind}: allowed keys are {sorted(_TYPE_KEYS)}")
        type_values[str(kind)] = _frozen(_list(rules.get("values"), f"{source}: types.{kind}.values"))
        if kind == "email":
            local_parts = _frozen(_list(rules.get("local_parts"), f"{source}: types.email.local_parts"))
            domains = _frozen(_list(rules.get("domains"), f"{source}: types.email.domains"))
        if kind == "phone":
            same_digit = bool(rules.get("all_same_digit", False))
            run = rules.get("sequential_digits", 0) or 0
            if isinstance(run, bool) or not isinstance(run, int) or not (run == 0 or 5 <= run <= 10):
                raise JunkListError(f"{source}: types.phone.sequential_digits must be 0 (off) or 5..10, got {run!r}")
    templates = []
    for pair in _list(data.get("templates"), f"{source}: templates"):
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) and p for p in pair)):
            raise JunkListError(f"{source}: templates: each entry is [start, end], got {pair!r}")
        templates.append((pair[0].lower(), pair[1].lower()))
    patterns = {}
    for kind, regexes in (data.get("patterns") or {}).items():
        regexes = tuple(str(p) for p in _list(regexes, f"{source}: patterns.{kind}"))
        for pattern in regexes:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise JunkListError(f"{source}: patterns.{kind}: {pattern!r} is not a valid regex: {exc}") from exc
        patterns[str(kind)] = regexes
    return JunkList(
        values=_frozen(_list(data.get("values"), f"{source}: values")),
        type_values=type_values,
        all_same_character=bool(data.get("all_same_character", False)),
        templates=tuple(templates),
        email_local_parts=local_parts,
        email_domains=domains,
        phone_all_same_digit=same_digit,
        phone_sequential_digits=run,
        patterns=patterns,
        sources=(source,),
    )


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise JunkListError(f"{where} must be a list, got {type(value).__name__}")
    return value


def read_junk_file(path: Path) -> JunkList:
    """Parse one junk-list YAML file (errors name the file)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise JunkListError(f"junk list {path}: cannot be read ({exc}); fix AUDIENCE_IDENTITY_JUNK_FILE") from exc
    except yaml.YAMLError as exc:
        raise JunkListError(f"junk list {path}: not valid YAML: {exc}") from exc
    return parse_junk_list(data, str(path))


_SHIPPED: JunkList | None = None


def shipped_junk_list() -> JunkList:
    """The list shipped in ``junk_values.yaml`` (parsed once)."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = read_junk_file(SHIPPED_FILE)
    return _SHIPPED


def load_junk_list(extra_file: Path | None = None, rows: Iterable[tuple[str, str]] = ()) -> JunkList:
    """The shipped list, extended by ``extra_file`` and by table ``rows`` (type, value)."""
    junk = shipped_junk_list()
    if extra_file is not None:
        junk = junk.extend(read_junk_file(extra_file))
    rows = list(rows)
    return junk.with_rows(rows) if rows else junk


def clean_values(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cleaned ``StringDType`` array, missing mask): None/NaN become '' and are missing."""
    raw = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    missing = pd.isna(raw)
    if missing.any():
        raw = raw.copy()
        raw[missing] = ""
    text = np.asarray(raw, dtype=_STRING)
    # Unicode whitespace (the default), then the zero-width characters, which are not whitespace
    text = np.strings.strip(np.strings.strip(text), _ZERO_WIDTH)
    return np.strings.lower(text), missing


def _s(text: str) -> np.ndarray:
    """A separator as numpy's string ufuncs want it next to ``StringDType`` arrays."""
    return np.asarray(text, dtype=_STRING)


def _scatter(rows: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """A mask over every value from ``hit``, computed for the values where ``rows`` is True."""
    full = np.zeros(len(rows), dtype=bool)
    full[rows] = hit
    return full


def _at(n: int, rows: np.ndarray) -> np.ndarray:
    """A mask of ``n`` values, True at ``rows``."""
    full = np.zeros(n, dtype=bool)
    full[rows] = True
    return full


def _isin(values: np.ndarray, members: frozenset[str]) -> np.ndarray:
    """Membership by hashing (pandas), far faster than ``np.isin``'s sort on millions of strings."""
    if not members or not len(values):
        return np.zeros(len(values), dtype=bool)
    objects = values if values.dtype == object else values.astype(object)
    return pd.Series(objects, copy=False).isin(members).to_numpy(dtype=bool)


def _same_character(values: np.ndarray) -> np.ndarray:
    first = np.strings.slice(values, 0, 1)
    return (np.strings.str_len(values) > 1) & (np.strings.multiply(first, np.strings.str_len(values)) == values)


def _phone_rules(phones: np.ndarray, junk: JunkList) -> tuple[np.ndarray, np.ndarray]:
    """(one digit repeated, sequential run) for E.164 values: the national part is tried as the
    digits after a 1-, 2- or 3-digit country code."""
    digits = np.strings.slice(phones, 1, None)
    same = np.zeros(len(phones), dtype=bool)
    if junk.phone_all_same_digit:
        for code in (1, 2, 3):
            national = np.strings.slice(digits, code, None)
            same |= (np.strings.str_len(national) >= 6) & _same_character(national)
    run = np.zeros(len(phones), dtype=bool)
    if junk.phone_sequential_digits:
        n = junk.phone_sequential_digits
        ascending, descending = "01234567890", "98765432109"
        for text in (ascending, descending):
            for start in range(len(text) - n + 1):
                run |= np.strings.endswith(digits, text[start : start + n])
    return same, run


class _TypeMasks:
    """``masks.of("email")``: a boolean mask per identifier type, from the types factorised once."""

    def __init__(self, types: pd.Series | np.ndarray) -> None:
        raw = types.to_numpy(dtype=object) if isinstance(types, pd.Series) else np.asarray(types, dtype=object)
        self.codes, names = pd.factorize(raw)
        self.names = {str(name): i for i, name in enumerate(names)}

    def __len__(self) -> int:
        return len(self.codes)

    def of(self, kind: str) -> np.ndarray:
        code = self.names.get(kind)
        return np.zeros(len(self.codes), dtype=bool) if code is None else self.codes == code


def junk_codes(types: pd.Series | np.ndarray, values: pd.Series | np.ndarray, junk: JunkList) -> np.ndarray:
    """int8 code per value: 0 = not junk, else the index in :data:`JUNK_REASONS` of the first rule
    that matched. Values are compared cleaned (see :func:`clean_values`); emails are expected as
    normalised addresses, phones as E.164, social handles as ``platform:handle``."""
    kinds = _TypeMasks(types)
    if len(kinds) != len(values):
        raise ValueError(f"types and values differ in length: {len(kinds)} != {len(values)}")
    cleaned, missing = clean_values(values)
    code = np.zeros(len(cleaned), dtype=np.int8)

    def mark(mask: np.ndarray, reason: str) -> None:
        code[(code == 0) & mask] = _CODE[reason]

    mark(missing | (cleaned == ""), "missing")
    is_handle = kinds.of("social_handle")
    subject = cleaned.copy()
    if is_handle.any():  # a handle is judged without its 'platform:' and '@'
        _, sep, handle = np.strings.partition(cleaned[is_handle], _s(":"))
        handle = np.strings.strip(np.where(sep == "", cleaned[is_handle], handle), WHITESPACE)
        subject[is_handle] = np.strings.strip(np.strings.lstrip(handle, "@"), WHITESPACE)
    subject_objects = subject.astype(object)
    hit = _isin(subject_objects, junk.values)
    for kind, members in junk.type_values.items():
        of_type = kinds.of(kind)
        if members and of_type.any():
            hit[of_type] |= _isin(subject_objects[of_type], members)
    mark(hit, "junk_list:value")
    if junk.all_same_character:
        mark(_same_character(subject), "junk_list:same_character")
    if junk.templates:  # only values starting like a template are looked at
        first = np.strings.slice(subject, 0, 1)
        rows = np.flatnonzero(_isin(first, frozenset(start[:1] for start, _ in junk.templates)))
        hit = np.zeros(len(rows), dtype=bool)
        for start, end in junk.templates:
            part = subject[rows]
            lengthy = np.strings.str_len(part) >= len(start) + len(end)
            hit |= lengthy & np.strings.startswith(part, start) & np.strings.endswith(part, end)
        mark(_at(len(code), rows[hit]), "junk_list:template")
    is_email = kinds.of("email")
    if is_email.any():
        local, _, domain = np.strings.rpartition(cleaned[is_email], _s("@"))
        mark(
            _scatter(is_email, _isin(np.strings.partition(local, _s("+"))[0], junk.email_local_parts)),
            "junk_list:email_local_part",
        )
        in_domain = _isin(domain, junk.email_domains)
        parent = domain
        for _ in range(3):  # a subdomain of a listed domain (up to three labels deep)
            parent = np.strings.partition(parent, _s("."))[2]
            in_domain |= _isin(parent, junk.email_domains)
        mark(_scatter(is_email, in_domain), "junk_list:email_domain")
    is_phone = (kinds.of("phone")) & np.strings.startswith(cleaned, "+")
    if is_phone.any() and (junk.phone_all_same_digit or junk.phone_sequential_digits):
        same, run = _phone_rules(cleaned[is_phone], junk)
        mark(_scatter(is_phone, same), "junk_list:phone_same_digit")
        mark(_scatter(is_phone, run), "junk_list:phone_sequential")
    for kind, regexes in junk.patterns.items():
        of_type = np.ones(len(code), dtype=bool) if kind == "*" else kinds.of(kind)
        if regexes and of_type.any():
            mark(_scatter(of_type, _matches(cleaned[of_type], regexes)), "junk_list:pattern")
    return code


def _matches(values: np.ndarray, patterns: Iterable[str]) -> np.ndarray:
    """True where any of ``patterns`` is found (case-insensitive) in ``values``."""
    combined = "|".join(f"(?:{p})" for p in patterns)
    with warnings.catch_warnings():  # user patterns may contain capture groups; we only test for a match
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression", UserWarning)
        hit = pd.Series(values.astype(object), dtype=object).str.contains(combined, regex=True, case=False)
    return hit.fillna(False).to_numpy(dtype=bool)
