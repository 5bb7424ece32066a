"""The identity settings (``AUDIENCE_IDENTITY_*`` in :mod:`audience_dagster.config`) as the
objects identity resolution and duplicate detection take."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from audience_dagster.config import Settings
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules
from audience_dagster.identity.values import NormalisationOptions


@dataclass(frozen=True)
class IdentitySetup:
    """Rules (limits, shared-value guard), value normalisation, the extra junk file and the
    fuzzy-suggestion threshold."""

    rules: IdentityRules = DEFAULT_RULES
    options: NormalisationOptions = NormalisationOptions()
    junk_file: Path | None = None
    duplicate_threshold: float = 0.9

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentitySetup:
        return cls.build(
            default_region=settings.identity_default_region,
            shared_value_people=settings.identity_shared_value_people,
            fold_email_aliases=settings.identity_fold_email_aliases,
            junk_file=settings.identity_junk_file,
            duplicate_threshold=settings.identity_duplicate_threshold,
        )

    @classmethod
    def build(
        cls,
        *,
        default_region: str,
        shared_value_people: int,
        fold_email_aliases: bool,
        junk_file: Path | None,
        duplicate_threshold: float,
    ) -> IdentitySetup:
        """The setup from the settings' values, validated (a ConfigError names what is wrong)."""
        return cls(
            rules=replace(DEFAULT_RULES, shared_value_people=shared_value_people).validate(),
            options=NormalisationOptions(
                default_region=default_region, fold_email_aliases=fold_email_aliases
            ).validate(),
            junk_file=junk_file,
            duplicate_threshold=duplicate_threshold,
        )
