"""What a command prints: progress on stderr, one closing line of ``key=value`` pairs on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def progress(label: str) -> Callable[[int, int], None]:
    """A ``report(done, total)`` that rewrites one stderr line: ``[label] done/total (seconds)``."""
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        print(
            f"\r[{label}] {done}/{total} ({time.perf_counter() - started:.0f}s)",
            end="\n" if done == total else "",
            file=sys.stderr,
            flush=True,
        )

    return report


def key_values(figures: dict[str, object]) -> str:
    """The machine-readable closing line: ``k=v k=v`` with floats rounded sensibly."""

    def fmt(value: object) -> str:
        if isinstance(value, float):
            if 0.99 < value < 1:  # a ratio just below 1 must not print as 1
                return f"{value:.6f}".rstrip("0")
            return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
        return str(value)

    return " ".join(f"{key}={fmt(value)}" for key, value in figures.items())
