"""Privacy: erasure, data-subject export, suppression of erased people at ingest.

``erase_person`` and ``export_person`` take a connection and a :class:`Lookup`; the tables
holding personal data, and how to find one person's rows in each, are listed once in
:data:`~audience_dagster.privacy.registry.PERSONAL_TABLES`. Do-not-track and suppression at
ingest live in ``audience_dagster/ingest/sources.py`` (they run inside the load statement).
"""

from __future__ import annotations

from audience_dagster.privacy.erasure import ErasureResult, erase_person
from audience_dagster.privacy.export import export_person
from audience_dagster.privacy.identifiers import Lookup, PersonNotFoundError, PrivacyError

__all__ = ["ErasureResult", "Lookup", "PersonNotFoundError", "PrivacyError", "erase_person", "export_person"]
