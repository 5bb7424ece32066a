"""Identity resolution: decide which identifiers (user ids, emails, phones, devices) are one person.

Pure logic only (numpy / scipy / pandas); no database and no Dagster import. The warehouse side
extracts identity edges with SQL and calls :func:`resolve_identities`.
"""

from __future__ import annotations

from audience_dagster.identity.evaluate import pairwise_precision_recall
from audience_dagster.identity.graph import Resolution, resolve_identities
from audience_dagster.identity.junk import JunkList, junk_codes, load_junk_list, shipped_junk_list
from audience_dagster.identity.normalize import blocked_mask, normalize_emails, normalize_phones
from audience_dagster.identity.phones import normalize_phone_numbers
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules, IdentityRulesError

__all__ = [
    "DEFAULT_RULES",
    "IdentityRules",
    "IdentityRulesError",
    "JunkList",
    "Resolution",
    "blocked_mask",
    "junk_codes",
    "load_junk_list",
    "normalize_emails",
    "normalize_phone_numbers",
    "normalize_phones",
    "pairwise_precision_recall",
    "resolve_identities",
    "shipped_junk_list",
]
