"""Configuration, read from the environment in one place.

Every setting has the ``AUDIENCE_`` prefix except ``DATABASE_URL``, the conventional name that
hosted Postgres providers (Supabase, RDS, Heroku, Render) already export.

| variable | default | meaning |
| --- | --- | --- |
| ``DATABASE_URL`` (or ``AUDIENCE_DATABASE_URL``) | unset: embedded PostgreSQL | warehouse |
| ``AUDIENCE_DAGSTER_DATABASE_URL`` | the warehouse's server | Dagster run/event storage |
| ``AUDIENCE_HOME`` | ``<project>/.audience`` | embedded data dir, Dagster home, samples |
| ``AUDIENCE_LANDING_DIR`` | ``$AUDIENCE_HOME/sample/landing`` | where ingest reads files |
| ``AUDIENCE_FUTURE_TOLERANCE_SECONDS`` | ``86400`` | clamp event times later than this past receipt |
| ``AUDIENCE_MODELS_DIR`` | ``<project>/models`` | trained prediction models and their model cards |
| ``AUDIENCE_CHURN_HORIZON_DAYS`` | ``90`` | churn = no purchase within this many days |
| ``AUDIENCE_NEXT_PURCHASE_HORIZON_DAYS`` | ``30`` | next_purchase = a purchase within this many days |
| ``AUDIENCE_LTV_HORIZON_DAYS`` | ``365`` | ltv = expected revenue over this many days |
| ``AUDIENCE_UPGRADE_HORIZON_DAYS`` | ``90`` | upgrade = a move to a higher spend tier within this many days |
| ``AUDIENCE_TRAINING_CRON`` | ``0 3 * * 1`` | when the prediction models retrain (weekly, Mondays 03:00 UTC) |
| ``AUDIENCE_IDENTITY_DEFAULT_REGION`` | ``US`` | country (ISO alpha-2) for phones whose record names none |
| ``AUDIENCE_IDENTITY_SHARED_VALUE_PEOPLE`` | ``2`` | a value whose links need more people than this is shared |
| ``AUDIENCE_IDENTITY_JUNK_FILE`` | unset | a YAML junk list added to ``identity/junk_values.yaml`` |
| ``AUDIENCE_IDENTITY_FOLD_EMAIL_ALIASES`` | ``false`` | drop email ``+tags`` and Gmail dots before matching |
| ``AUDIENCE_IDENTITY_DUPLICATE_THRESHOLD`` | ``0.9`` | fuzzy duplicate suggestions at or above this match probability |
| ``AUDIENCE_AS_OF`` | unset: each run's start time | the clock of every time-dependent computation (ISO 8601) |
| ``AUDIENCE_PG_START_TIMEOUT_SECONDS`` | ``1800`` | how long a start of the embedded server may take (crash recovery) |
| ``AUDIENCE_COLLECTOR_HOST`` / ``_PORT`` | ``127.0.0.1`` / ``8088`` | where ``audience serve`` listens |
| ``AUDIENCE_COLLECTOR_SPOOL_DIR`` | ``$AUDIENCE_LANDING_DIR/.collector`` | the collector's open spool files |
| ``AUDIENCE_COLLECTOR_ROTATE_SECONDS`` / ``_ROTATE_BYTES`` | ``60`` / ``64 MiB`` | publish a spool file this old/big |
| ``AUDIENCE_COLLECTOR_CORS_ORIGINS`` | ``*`` | origins browsers may send events from (comma-separated) |
| ``AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS`` | ``5`` | how soon the server sees a revoked key |
| ``AUDIENCE_COLLECTOR_POOL_SIZE`` | ``4`` | database connections of the profile API |
| ``AUDIENCE_COLLECTOR_INGEST_INTERVAL_SECONDS`` | ``300`` | how often the intake sensor loads collector files |
| ``AUDIENCE_ACTIVATION_DESTINATIONS_DIR`` | ``activation/destinations`` | destination YAML (docs/activation.md) |
| ``AUDIENCE_ACTIVATION_OUTPUT_DIR`` | ``$AUDIENCE_HOME/activation`` | where ``file`` destinations write |
| ``AUDIENCE_ACTIVATION_SECRET_<NAME>`` | unset | a destination's HMAC secret or API key (``secret: <name>``) |
| ``AUDIENCE_ACTIVATION_MAILCHIMP_BASE_URL`` | the API key's data centre | Mailchimp API root (tests: local) |
| ``AUDIENCE_ACTIVATION_BATCH_SIZE`` / ``_MAX_ATTEMPTS`` | ``500`` / ``5`` | changes per request; tries |
| ``AUDIENCE_ACTIVATION_BACKOFF_SECONDS`` / ``_TIMEOUT_SECONDS`` | ``1`` / ``10`` | first retry delay; timeout |
| ``AUDIENCE_ACTIVATION_RECOMMENDATIONS`` | ``10`` | products (and half as many content items) per profile |
| ``AUDIENCE_ACTIVATION_PRICING_POLICY`` | ``activation/pricing_policy.yaml`` | WTP offer tiers and guardrails |
| ``AUDIENCE_BENCH_DATABASE_URL`` | unset: a scratch database | where ``bench``/``eval`` run (kept) |

This is the only module that touches ``os.environ``: :func:`load_settings` reads it, and
:func:`process_environment` / :func:`export_environment` are how the rest of the package hands
values to the child processes it starts (dbt reads its connection from ``AUDIENCE_PG_*``,
``dagster dev`` and its run workers find their instance through ``DAGSTER_HOME``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from audience_dagster.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MODELS_DIR = PROJECT_ROOT / "models"


@dataclass(frozen=True)
class CollectorSettings:
    """``audience serve``: the event collector and profile API (see docs/collector.md)."""

    spool_dir: Path
    host: str = "127.0.0.1"
    port: int = 8088
    rotate_seconds: int = 60
    rotate_bytes: int = 64 << 20
    cors_origins: tuple[str, ...] = ("*",)
    key_refresh_seconds: int = 5
    pool_size: int = 4
    ingest_interval_seconds: int = 300


ACTIVATION_DIR = Path(__file__).resolve().parent / "activation"


@dataclass(frozen=True)
class ActivationSettings:
    """Destinations, recommendations and offers (see docs/activation.md)."""

    output_dir: Path
    destinations_dir: Path = ACTIVATION_DIR / "destinations"
    secrets: dict[str, str] = field(default_factory=dict)  # NAME (upper case) -> value
    mailchimp_base_url: str | None = None
    batch_size: int = 500
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    recommendations: int = 10
    pricing_policy: Path = ACTIVATION_DIR / "pricing_policy.yaml"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    home: Path
    database_url: str | None
    dagster_database_url: str | None
    landing_dir: Path
    future_tolerance_seconds: int
    models_dir: Path = MODELS_DIR
    horizons_days: dict[str, int] | None = None  # prediction type -> horizon; see load_settings
    training_cron: str = "0 3 * * 1"
    identity_default_region: str = "US"
    identity_shared_value_people: int = 2
    identity_junk_file: Path | None = None
    identity_fold_email_aliases: bool = False
    identity_duplicate_threshold: float = 0.9
    as_of: datetime | None = None  # AUDIENCE_AS_OF: pins the run clock (backfills, demos); None = wall clock
    pg_start_timeout_seconds: int = 1800
    bench_database_url: str | None = None  # AUDIENCE_BENCH_DATABASE_URL: benchmarks keep their database there
    collector: CollectorSettings = field(default_factory=lambda: CollectorSettings(spool_dir=Path(".collector")))
    activation: ActivationSettings = field(default_factory=lambda: ActivationSettings(output_dir=Path("activation")))

    @property
    def embedded(self) -> bool:
        """True when the project runs its own PostgreSQL (no ``DATABASE_URL`` given)."""
        return self.database_url is None

    @property
    def future_tolerance(self) -> timedelta:
        return timedelta(seconds=self.future_tolerance_seconds)

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def sample_dir(self) -> Path:
        return self.home / "sample"

    @property
    def log_dir(self) -> Path:
        """Where runs write their logs (the run's event log lines, dbt's output), one folder per run."""
        return self.home / "logs"


def _int_env(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a whole number; unset it or give one") from exc


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("AUDIENCE_HOME") or PROJECT_ROOT / ".audience").expanduser().resolve()
    url = env.get("AUDIENCE_DATABASE_URL") or env.get("DATABASE_URL") or None
    if url is not None and not url.startswith(("postgres://", "postgresql://")):
        raise ConfigError(
            f"DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}://…; "
            "unset it to use the embedded PostgreSQL"
        )
    landing = env.get("AUDIENCE_LANDING_DIR")
    landing_dir = Path(landing).expanduser().resolve() if landing else home / "sample" / "landing"
    return Settings(
        home=home,
        database_url=url,
        dagster_database_url=env.get("AUDIENCE_DAGSTER_DATABASE_URL") or None,
        landing_dir=landing_dir,
        future_tolerance_seconds=_int_env(env, "AUDIENCE_FUTURE_TOLERANCE_SECONDS", 86_400),
        models_dir=Path(env["AUDIENCE_MODELS_DIR"]).expanduser().resolve()
        if env.get("AUDIENCE_MODELS_DIR")
        else MODELS_DIR,
        horizons_days={
            kind: _positive_days(env, f"AUDIENCE_{kind.upper()}_HORIZON_DAYS", default)
            for kind, default in DEFAULT_HORIZONS_DAYS.items()
        },
        training_cron=_cron(env.get("AUDIENCE_TRAINING_CRON") or "0 3 * * 1"),
        as_of=parse_as_of(env["AUDIENCE_AS_OF"], "AUDIENCE_AS_OF") if env.get("AUDIENCE_AS_OF") else None,
        pg_start_timeout_seconds=_int_env(env, "AUDIENCE_PG_START_TIMEOUT_SECONDS", 1800),
        bench_database_url=env.get("AUDIENCE_BENCH_DATABASE_URL") or None,
        **_identity_settings(env),
        collector=_collector_settings(env, landing_dir),
        activation=_activation_settings(env, home),
    )


def process_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of this process's environment with ``extra`` on top: the environment of a child
    process (dbt, ``dagster dev``, ``audience serve``, a benchmark's subprocess)."""
    return {**os.environ, **(extra or {})}


def export_environment(values: Mapping[str, str], *, keep_existing: bool = False) -> None:
    """Put ``values`` into this process's environment, which every child process inherits
    (``keep_existing``: leave a variable that is already set alone)."""
    for name, value in values.items():
        if keep_existing:
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value


def _identity_settings(env: dict[str, str]) -> dict[str, object]:
    region = (env.get("AUDIENCE_IDENTITY_DEFAULT_REGION") or "US").strip().upper()
    if len(region) != 2 or not region.isalpha():
        raise ConfigError(f"AUDIENCE_IDENTITY_DEFAULT_REGION={region!r}: give an ISO 3166 alpha-2 code, e.g. US or GB")
    people = _int_env(env, "AUDIENCE_IDENTITY_SHARED_VALUE_PEOPLE", 2)
    if people < 1:
        raise ConfigError(f"AUDIENCE_IDENTITY_SHARED_VALUE_PEOPLE={people}: give a whole number >= 1")
    junk = env.get("AUDIENCE_IDENTITY_JUNK_FILE")
    junk_file = Path(junk).expanduser().resolve() if junk else None
    if junk_file is not None and not junk_file.is_file():
        raise ConfigError(f"AUDIENCE_IDENTITY_JUNK_FILE={junk}: no such file; give a YAML junk list or unset it")
    fold = (env.get("AUDIENCE_IDENTITY_FOLD_EMAIL_ALIASES") or "false").strip().lower()
    if fold not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"AUDIENCE_IDENTITY_FOLD_EMAIL_ALIASES={fold!r}: give true or false")
    raw = env.get("AUDIENCE_IDENTITY_DUPLICATE_THRESHOLD") or "0.9"
    try:
        threshold = float(raw)
    except ValueError as exc:
        raise ConfigError(f"AUDIENCE_IDENTITY_DUPLICATE_THRESHOLD={raw!r}: give a probability, e.g. 0.9") from exc
    if not 0 < threshold < 1:
        raise ConfigError(f"AUDIENCE_IDENTITY_DUPLICATE_THRESHOLD={raw!r}: give a probability between 0 and 1")
    return {
        "identity_default_region": region,
        "identity_shared_value_people": people,
        "identity_junk_file": junk_file,
        "identity_fold_email_aliases": fold in ("true", "1", "yes"),
        "identity_duplicate_threshold": threshold,
    }


def parse_as_of(value: str, where: str = "as_of") -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (zone-less means UTC; a date means its
    midnight); ConfigError naming ``where`` otherwise."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise ConfigError(
            f"{where}={value!r} is not an ISO 8601 date or time; give e.g. 2026-11-30 or 2026-11-30T12:00:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _cron(value: str) -> str:
    if len(value.split()) != 5:
        raise ConfigError(f"AUDIENCE_TRAINING_CRON={value!r}: give five cron fields, e.g. '0 3 * * 1'")
    return value


DEFAULT_HORIZONS_DAYS = {"churn": 90, "next_purchase": 30, "ltv": 365, "upgrade": 90}


def _positive_days(env: dict[str, str], name: str, default: int) -> int:
    days = _int_env(env, name, default)
    if not 1 <= days <= 3650:
        raise ConfigError(f"{name}={days}: give a horizon between 1 and 3650 days")
    return days


def _collector_settings(env: dict[str, str], landing_dir: Path) -> CollectorSettings:
    spool = env.get("AUDIENCE_COLLECTOR_SPOOL_DIR")
    origins = tuple(o.strip() for o in (env.get("AUDIENCE_COLLECTOR_CORS_ORIGINS") or "*").split(",") if o.strip())
    settings = CollectorSettings(
        spool_dir=Path(spool).expanduser().resolve() if spool else landing_dir / ".collector",
        host=env.get("AUDIENCE_COLLECTOR_HOST") or "127.0.0.1",
        port=_int_env(env, "AUDIENCE_COLLECTOR_PORT", 8088),
        rotate_seconds=_int_env(env, "AUDIENCE_COLLECTOR_ROTATE_SECONDS", 60),
        rotate_bytes=_int_env(env, "AUDIENCE_COLLECTOR_ROTATE_BYTES", 64 << 20),
        cors_origins=origins,
        key_refresh_seconds=_int_env(env, "AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS", 5),
        pool_size=_int_env(env, "AUDIENCE_COLLECTOR_POOL_SIZE", 4),
        ingest_interval_seconds=_int_env(env, "AUDIENCE_COLLECTOR_INGEST_INTERVAL_SECONDS", 300),
    )
    for name, value, low in (
        ("AUDIENCE_COLLECTOR_PORT", settings.port, 0),
        ("AUDIENCE_COLLECTOR_ROTATE_SECONDS", settings.rotate_seconds, 1),
        ("AUDIENCE_COLLECTOR_ROTATE_BYTES", settings.rotate_bytes, 1 << 20),
        ("AUDIENCE_COLLECTOR_KEY_REFRESH_SECONDS", settings.key_refresh_seconds, 1),
        ("AUDIENCE_COLLECTOR_POOL_SIZE", settings.pool_size, 1),
        ("AUDIENCE_COLLECTOR_INGEST_INTERVAL_SECONDS", settings.ingest_interval_seconds, 30),
    ):
        if value < low:
            raise ConfigError(f"{name}={value}: give at least {low}")
    if settings.port > 65535:
        raise ConfigError(f"AUDIENCE_COLLECTOR_PORT={settings.port}: give a port between 0 and 65535")
    return settings


def _float_env(env: dict[str, str], name: str, default: float, low: float) -> float:
    raw = env.get(name)
    try:
        value = default if raw is None or raw == "" else float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number; unset it or give one") from exc
    if not value >= low:
        raise ConfigError(f"{name}={raw}: give at least {low}")
    return value


def _activation_settings(env: dict[str, str], home: Path) -> ActivationSettings:
    def path(name: str, default: Path, want_file: bool) -> Path:
        raw = env.get(name)
        if not raw:
            return default
        resolved = Path(raw).expanduser().resolve()
        if want_file and not resolved.is_file():
            raise ConfigError(f"{name}={raw}: no such file; give a YAML file or unset it")
        return resolved

    prefix = "AUDIENCE_ACTIVATION_SECRET_"
    settings = ActivationSettings(
        output_dir=path("AUDIENCE_ACTIVATION_OUTPUT_DIR", home / "activation", False),
        destinations_dir=path("AUDIENCE_ACTIVATION_DESTINATIONS_DIR", ACTIVATION_DIR / "destinations", False),
        secrets={k[len(prefix) :].upper(): v for k, v in env.items() if k.startswith(prefix) and v},
        mailchimp_base_url=(env.get("AUDIENCE_ACTIVATION_MAILCHIMP_BASE_URL") or "").rstrip("/") or None,
        batch_size=_int_env(env, "AUDIENCE_ACTIVATION_BATCH_SIZE", 500),
        max_attempts=_int_env(env, "AUDIENCE_ACTIVATION_MAX_ATTEMPTS", 5),
        backoff_seconds=_float_env(env, "AUDIENCE_ACTIVATION_BACKOFF_SECONDS", 1.0, 0.0),
        timeout_seconds=_float_env(env, "AUDIENCE_ACTIVATION_TIMEOUT_SECONDS", 10.0, 0.1),
        recommendations=_int_env(env, "AUDIENCE_ACTIVATION_RECOMMENDATIONS", 10),
        pricing_policy=path("AUDIENCE_ACTIVATION_PRICING_POLICY", ACTIVATION_DIR / "pricing_policy.yaml", True),
    )
    for name, value, low, high in (
        ("AUDIENCE_ACTIVATION_BATCH_SIZE", settings.batch_size, 1, 500),
        ("AUDIENCE_ACTIVATION_MAX_ATTEMPTS", settings.max_attempts, 1, 20),
        ("AUDIENCE_ACTIVATION_RECOMMENDATIONS", settings.recommendations, 1, 100),
    ):
        if not low <= value <= high:
            raise ConfigError(f"{name}={value}: give a whole number between {low} and {high}")
    return settings
