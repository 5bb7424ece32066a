"""One error hierarchy for the project.

Every error says what was wrong, where (file, line, rule, segment) and what to do about it.
"""

from __future__ import annotations


class AudienceError(Exception):
    """Base class of every error the project raises on purpose."""


class ConfigError(AudienceError):
    """A setting is missing or invalid (environment variable, URL, path)."""


class WarehouseError(AudienceError):
    """The PostgreSQL warehouse could not be started, reached or bootstrapped."""


class MigrationError(WarehouseError):
    """A schema migration cannot be applied: it failed (the file and PostgreSQL's error are
    named), an applied file was edited, or the warehouse is newer than the code."""


class IngestError(AudienceError):
    """A landing file could not be read at all (individual bad records are quarantined instead)."""


class RuleError(AudienceError):
    """A user-defined rule (segment, scoring) is malformed."""


class IdentityError(AudienceError):
    """An identity operation (merge, unmerge) names an unknown profile or identifier, or makes no sense."""


class ModelError(AudienceError):
    """A predictive model cannot be fitted or applied: no or invalid input (NaN, negative values,
    recency after the end of observation), too little data to identify its parameters, an
    optimiser that did not converge, or a prediction asked of a model that was never fitted."""


class ModelNotIdentifiedError(ModelError):
    """The data cannot tell a model's parameters apart: too few distinct histories for its
    parameters (checked before optimising), or an optimum where a parameter runs off to 0 or
    infinity or is known only within a huge range."""


class ModelConvergenceError(ModelError):
    """The optimiser stopped before an optimum (its gradient is not close to zero)."""


class SegmentError(AudienceError):
    """A segment or cohort definition cannot be compiled or refreshed; the message names its slug."""

    def __init__(self, slug: str, message: str) -> None:
        super().__init__(f"segment {slug!r}: {message}")
        self.slug = slug


class RunInProgressError(AudienceError):
    """Another run (a refresh, a UI run, a second UI) holds what this command needs; the message
    names it and says whether to wait or stop it."""


class CollectorError(AudienceError):
    """The collector cannot start or a key operation is invalid (unknown key, missing secret,
    a spool directory another server holds)."""


class ActivationError(AudienceError):
    """A destination, recommendation or pricing definition is invalid, or a destination cannot
    be synced (unknown segment, missing secret); the message names the file or destination."""
