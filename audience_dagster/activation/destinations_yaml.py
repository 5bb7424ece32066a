"""Destination definitions as code: one YAML file per destination, synced into
``activation.destinations`` (pure: files → definitions).

A file is named ``<slug>.yaml`` and holds ``slug``, ``name``, ``segment`` (a segment slug),
``kind`` (``file``, ``webhook`` or ``mailchimp``), ``status`` (``active`` or ``paused``) and the
kind's ``settings``. Loading checks every key, so a bad file fails with its path before anything
is written. Secrets never live in the files: ``secret: crm`` names the environment variable
``AUDIENCE_ACTIVATION_SECRET_CRM``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audience_dagster.errors import ActivationError

KINDS: dict[str, dict[str, bool]] = {  # kind -> setting -> required
    "file": {"formats": False},
    "webhook": {"url": True, "secret": True, "batch_size": False},
    "mailchimp": {"list_id": True, "segment_id": True, "secret": True, "base_url": False, "batch_size": False},
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SECRET = re.compile(r"^[A-Za-z0-9_]{1,64}$")
FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class DestinationDefinition:
    """One row of ``activation.destinations``."""

    slug: str
    name: str
    segment: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    status: str = "active"

    @property
    def secret_name(self) -> str | None:
        value = self.settings.get("secret")
        return str(value).upper() if value else None


def destination_from_mapping(data: Any, where: str) -> DestinationDefinition:
    """A checked :class:`DestinationDefinition`; :class:`ActivationError` naming ``where``."""
    if not isinstance(data, dict):
        raise ActivationError(f"{where}: a destination file holds one mapping (slug, name, segment, kind, settings)")
    known = {"slug", "name", "segment", "kind", "settings", "status"}
    extra = sorted(set(data) - known)
    if extra:
        raise ActivationError(f"{where}: unknown keys {extra}; use {', '.join(sorted(known))}")
    slug, segment, kind = data.get("slug"), data.get("segment"), data.get("kind")
    for key, value in (("slug", slug), ("segment", segment)):
        if not isinstance(value, str) or not _SLUG.match(value):
            raise ActivationError(f"{where}: {key} must be lower-case letters, digits and dashes, got {value!r}")
    if kind not in KINDS:
        raise ActivationError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    status = data.get("status", "active")
    if status not in ("active", "paused"):
        raise ActivationError(f"{where}: status {status!r} is not active or paused")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise ActivationError(f"{where}: settings must be a mapping")
    _check_settings(kind, settings, where)
    return DestinationDefinition(
        slug=slug, name=str(data.get("name") or slug), segment=segment, kind=kind, settings=settings, status=status
    )


def _check_settings(kind: str, settings: dict[str, Any], where: str) -> None:
    allowed = KINDS[kind]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ActivationError(f"{where}: {kind} settings {unknown} unknown; use {', '.join(allowed)}")
    missing = sorted(k for k, required in allowed.items() if required and not settings.get(k))
    if missing:
        raise ActivationError(f"{where}: a {kind} destination needs settings {', '.join(missing)}")
    if "secret" in settings and not _SECRET.match(str(settings["secret"])):
        raise ActivationError(
            f"{where}: secret names an environment variable suffix (letters, digits, _), "
            f"e.g. `secret: crm` for AUDIENCE_ACTIVATION_SECRET_CRM"
        )
    if "url" in settings and not str(settings["url"]).startswith(("http://", "https://")):
        raise ActivationError(f"{where}: url must be an http(s) URL")
    size = settings.get("batch_size")
    if size is not None and (not isinstance(size, int) or not 1 <= size <= 500):
        raise ActivationError(f"{where}: batch_size must be a whole number between 1 and 500")
    formats = settings.get("formats", list(FORMATS))
    if not isinstance(formats, list) or not formats or set(formats) - set(FORMATS):
        raise ActivationError(f"{where}: formats must be a list of {', '.join(FORMATS)}")


def load_destination_file(path: Path) -> DestinationDefinition:
    """One checked definition; its slug must be the file's name."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ActivationError(f"{path}: not valid YAML: {exc}") from exc
    definition = destination_from_mapping(data, str(path))
    if path.stem != definition.slug:
        raise ActivationError(f"{path}: the file name must be the slug ({definition.slug}.yaml)")
    return definition


def destination_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_destinations_each(folder: Path) -> tuple[list[DestinationDefinition], dict[str, str]]:
    """The good definitions, and file stem -> error for the bad files (each fails alone)."""
    good, bad = [], {}
    for path in destination_files(folder):
        try:
            good.append(load_destination_file(path))
        except ActivationError as exc:
            bad[path.stem] = str(exc)
    return good, bad


def load_destinations(folder: Path) -> list[DestinationDefinition]:
    """Every ``*.yaml`` destination in ``folder`` (none if it does not exist); the first bad
    file raises :class:`ActivationError`."""
    return [load_destination_file(path) for path in destination_files(folder)]
