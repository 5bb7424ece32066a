"""What the collector has taken in, per source: published files waiting for ingest, and what
ingest made of the loaded ones (from its ledger ``raw.loaded_files`` and ``raw.quarantine``).

No Dagster here; the intake sensor (``definitions.py``) reports these figures as an observation
of ``collector/intake`` and asks for an ingest run when files wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from audience_dagster.collector.auth import SOURCES as SPOOLED_SOURCES
from audience_dagster.collector.spool import PUBLISHED_SUBDIR
from audience_dagster.ingest.landing import find_landing_files

COUNT_LINES_UP_TO_BYTES = 256 << 20  # beyond this, waiting events are reported as bytes only


@dataclass
class SourceIntake:
    """One source's intake: waiting files (published, not yet loaded) and the ledger's totals."""

    waiting: list[str] = field(default_factory=list)  # landing-relative paths, as the ledger names them
    waiting_bytes: int = 0
    waiting_events: int | None = 0  # None when too much waits to count
    files_loaded: int = 0
    events_loaded: int = 0
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    do_not_track: int = 0
    suppressed: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def events_received(self) -> int | None:
        return None if self.waiting_events is None else self.events_loaded + self.waiting_events


def published_files(landing_dir: Path, source: str) -> list[Path]:
    return find_landing_files(landing_dir / source / PUBLISHED_SUBDIR, "jsonl")


def read_intake(cur, landing_dir: Path) -> dict[str, SourceIntake]:
    """Per source: what waits in ``<landing>/<source>/collector/`` and what ingest loaded from it."""
    intake = {source: SourceIntake() for source in SPOOLED_SOURCES}
    candidates = {
        f"{source}/{PUBLISHED_SUBDIR}/{path.name}": (source, path)
        for source in SPOOLED_SOURCES
        for path in published_files(landing_dir, source)
    }
    cur.execute("SELECT file_path FROM raw.loaded_files WHERE file_path = ANY(%s)", (list(candidates),))
    loaded = {row[0] for row in cur.fetchall()}
    for shown, (source, path) in sorted(candidates.items()):
        if shown in loaded:
            continue
        entry = intake[source]
        entry.waiting.append(shown)
        entry.waiting_bytes += path.stat().st_size
        if entry.waiting_events is not None and entry.waiting_bytes <= COUNT_LINES_UP_TO_BYTES:
            entry.waiting_events += path.read_bytes().count(b"\n")
        else:
            entry.waiting_events = None
    pattern = f"%/{PUBLISHED_SUBDIR}/%"
    cur.execute(
        "SELECT source, count(*), sum(lines), sum(inserted), sum(duplicates), sum(quarantined), sum(do_not_track),"
        " sum(suppressed) FROM raw.loaded_files WHERE file_path LIKE %s GROUP BY source",
        (pattern,),
    )
    for source, files, lines, inserted, duplicates, quarantined, dnt, suppressed in cur.fetchall():
        if source in intake:
            entry = intake[source]
            entry.files_loaded, entry.events_loaded, entry.inserted = int(files), int(lines), int(inserted)
            entry.duplicates, entry.quarantined = int(duplicates), int(quarantined)
            entry.do_not_track, entry.suppressed = int(dnt), int(suppressed)
    cur.execute(
        "SELECT source, regexp_replace(reason, ': .*$', ''), count(*) FROM raw.quarantine"
        " WHERE file_path LIKE %s GROUP BY 1, 2 ORDER BY 3 DESC",
        (pattern,),
    )
    for source, reason, count in cur.fetchall():
        if source in intake:
            intake[source].quarantine_reasons[reason] = int(count)
    return intake
