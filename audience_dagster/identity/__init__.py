"""Identity resolution: decide which identifiers (user ids, emails, phones, devices) are one person.

Pure logic only (numpy / scipy / pandas); no database and no Dagster import. The warehouse side
extracts identity edges with SQL and calls :func:`resolve_identities`.
"""

from __future__ import annotations

from audience_dagster.identity.evaluate import pairwise_precision_recall
from audience_dagster.identity.graph import Resolution, resolve_identities
from audience_dagster.identity.normalize import (
    BLOCKED_EMAIL_PATTERNS,
    BLOCKED_EMAIL_PREFIXES,
    BLOCKED_EMAIL_SUFFIXES,
    BLOCKED_VALUES,
    blocked_mask,
    normalize_emails,
    normalize_phones,
)
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules, IdentityRulesError

__all__ = [
    "BLOCKED_EMAIL_PATTERNS",
    "BLOCKED_EMAIL_PREFIXES",
    "BLOCKED_EMAIL_SUFFIXES",
    "BLOCKED_VALUES",
    "DEFAULT_RULES",
    "IdentityRules",
    "IdentityRulesError",
    "Resolution",
    "blocked_mask",
    "normalize_emails",
    "normalize_phones",
    "pairwise_precision_recall",
    "resolve_identities",
]
