"""The identity settings as a Dagster resource (built from :class:`~audience_dagster.config.Settings`)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from audience_dagster.config import Settings
from audience_dagster.identity.setup import IdentitySetup


class IdentityResource(dg.ConfigurableResource):
    """``AUDIENCE_IDENTITY_*``: what the identity map and the duplicate suggestions resolve with."""

    default_region: str = "US"
    shared_value_people: int = 2
    junk_file: str = ""
    fold_email_aliases: bool = False
    duplicate_threshold: float = 0.9

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityResource:
        return cls(
            default_region=settings.identity_default_region,
            shared_value_people=settings.identity_shared_value_people,
            junk_file=str(settings.identity_junk_file or ""),
            fold_email_aliases=settings.identity_fold_email_aliases,
            duplicate_threshold=settings.identity_duplicate_threshold,
        )

    def setup(self) -> IdentitySetup:
        return IdentitySetup.build(
            default_region=self.default_region,
            shared_value_people=self.shared_value_people,
            fold_email_aliases=self.fold_email_aliases,
            junk_file=Path(self.junk_file) if self.junk_file else None,
            duplicate_threshold=self.duplicate_threshold,
        )
