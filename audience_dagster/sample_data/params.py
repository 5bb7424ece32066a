"""Parameters of one generation run and the time window they imply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from audience_dagster.errors import ConfigError
from audience_dagster.sample_data.encode import DAY_MS, days_from_civil

CHUNK_PEOPLE = 50_000
"""People per chunk: the unit of work and of output files (independent of ``workers``).

Chunking is part of the output's identity (each chunk has its own random stream); keep the
default unless you need many small chunks (tests)."""

HISTORICAL_DAYS = 180
"""Orders in the first days of the observed window are exported as CSV instead of JSON."""

GENERATOR_VERSION = "1"


def default_end() -> date:
    """Yesterday (UTC): the last whole day before generation, so a fresh sample's data ends at the
    moment it is generated (midnight today) and its scores are live whatever the date."""
    return datetime.now(UTC).date() - timedelta(days=1)


@dataclass(frozen=True)
class GenerationParams:
    people: int
    seed: int
    end: date = field(default_factory=default_end)
    history_days: int = 540
    holdout_days: int = 365
    malformed_rate: float = 0.0002
    chunk_people: int = CHUNK_PEOPLE

    def validate(self) -> None:
        if self.people < 1:
            raise ConfigError(f"people={self.people}: generate at least one person")
        if self.history_days < 30:
            raise ConfigError(f"history_days={self.history_days}: use 30 days or more")
        if self.holdout_days < 1:
            raise ConfigError(f"holdout_days={self.holdout_days}: use 1 day or more")
        if self.chunk_people < 1:
            raise ConfigError(f"chunk_people={self.chunk_people}: use 1 or more")
        if not 0.0 <= self.malformed_rate < 0.5:
            raise ConfigError(f"malformed_rate={self.malformed_rate}: use a rate in [0, 0.5)")

    @property
    def chunks(self) -> int:
        return -(-self.people // self.chunk_people)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        """Global 0-based person index range ``[start, stop)`` of a chunk."""
        start = chunk * self.chunk_people
        return start, min(self.people, start + self.chunk_people)

    @property
    def window(self) -> Window:
        end_ms = (days_from_civil(self.end.year, self.end.month, self.end.day) + 1) * DAY_MS
        start_ms = end_ms - self.history_days * DAY_MS
        historical = min(HISTORICAL_DAYS, self.history_days // 3)
        return Window(
            start=start_ms,
            end=end_ms,
            holdout_end=end_ms + self.holdout_days * DAY_MS,
            shopify_from=start_ms + historical * DAY_MS,
        )


@dataclass(frozen=True)
class Window:
    """Instants (ms since epoch, UTC) bounding the simulation.

    Observed landing data: true times in ``[start, end)``, i.e. the calendar days
    ``(end_date - history_days, end_date]``. Holdout (ground truth only): ``[end, holdout_end)``.
    Orders before ``shopify_from`` are exported to the historical CSV instead of Shopify JSON.
    """

    start: int
    end: int
    holdout_end: int
    shopify_from: int
