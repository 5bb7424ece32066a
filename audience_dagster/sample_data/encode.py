"""Vectorised text encoders: ids, timestamps and amounts from numpy columns to lists of str.

Every function builds a fixed-width ASCII matrix with numpy and decodes it once, which is
several times faster than formatting values one by one (``datetime.isoformat``, ``uuid.uuid4``).
Times are int64 milliseconds since the Unix epoch (UTC) throughout the generator.
"""

from __future__ import annotations

import numpy as np

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_ZERO = ord("0")


def ascii_rows(matrix: np.ndarray) -> list[str]:
    """An ``(n, width)`` uint8 matrix of ASCII codes → ``n`` strings (one decode, one split)."""
    n, width = matrix.shape
    framed = np.empty((n, width + 1), dtype=np.uint8)
    framed[:, :width] = matrix
    framed[:, width] = ord("\n")
    return framed.tobytes().decode("ascii").split("\n")[:-1]


def _put_digits(out: np.ndarray, start: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` as zero-padded decimals into columns ``start:start+width``."""
    v = values.astype(np.int64, copy=True)
    for col in range(start + width - 1, start - 1, -1):
        out[:, col] = _ZERO + v % 10
        v //= 10


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's method)."""
    z = days.astype(np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def days_from_civil(year: int, month: int, day: int) -> int:
    """(year, month, day) → days since 1970-01-01 (the inverse of :func:`civil_from_days`)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = month + (-3 if month > 2 else 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


_TWO_DIGITS = np.array([[_ZERO + i // 10, _ZERO + i % 10] for i in range(100)], dtype=np.uint8)
_THREE_DIGITS = np.array(
    [[_ZERO + i // 100, _ZERO + i // 10 % 10, _ZERO + i % 10] for i in range(1000)], dtype=np.uint8
)


def _date_table(first_day: int, last_day: int) -> np.ndarray:
    """``YYYY-MM-DD`` rows for every day of ``[first_day, last_day]``."""
    year, month, day = civil_from_days(np.arange(first_day, last_day + 1, dtype=np.int64))
    out = np.empty((year.size, 10), dtype=np.uint8)
    _put_digits(out, 0, year, 4)
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 5:7] = _TWO_DIGITS[month]
    out[:, 8:10] = _TWO_DIGITS[day]
    return out


def _date_time_matrix(ms: np.ndarray, width: int, with_time: bool) -> np.ndarray:
    ms = np.asarray(ms, dtype=np.int64)
    out = np.empty((ms.size, width), dtype=np.uint8)
    if ms.size == 0:
        return out
    days = np.floor_divide(ms, DAY_MS)
    first = int(days.min())
    out[:, :10] = _date_table(first, int(days.max()))[days - first]
    if with_time:
        seconds = (ms - days * DAY_MS) // SECOND_MS
        out[:, 10] = ord("T")
        out[:, 11:13] = _TWO_DIGITS[seconds // 3600]
        out[:, 13] = out[:, 16] = ord(":")
        out[:, 14:16] = _TWO_DIGITS[seconds // 60 % 60]
        out[:, 17:19] = _TWO_DIGITS[seconds % 60]
    return out


def iso_ms(ms: np.ndarray) -> list[str]:
    """``2026-03-04T12:34:56.789Z`` for each instant."""
    ms = np.asarray(ms, dtype=np.int64)
    out = _date_time_matrix(ms, 24, with_time=True)
    out[:, 19] = ord(".")
    out[:, 20:23] = _THREE_DIGITS[np.mod(ms, SECOND_MS)]
    out[:, 23] = ord("Z")
    return ascii_rows(out)


def iso_offset(ms: np.ndarray, offset_minutes: np.ndarray) -> list[str]:
    """Local wall time with its UTC offset, seconds precision: ``2026-01-05T09:12:44-05:00``."""
    ms = np.asarray(ms, dtype=np.int64)
    offset = np.broadcast_to(np.asarray(offset_minutes, dtype=np.int64), ms.shape)
    out = _date_time_matrix(ms + offset * MINUTE_MS, 25, with_time=True)
    out[:, 19] = np.where(offset < 0, ord("-"), ord("+"))
    out[:, 20:22] = _TWO_DIGITS[np.abs(offset) // 60]
    out[:, 22] = ord(":")
    out[:, 23:25] = _TWO_DIGITS[np.abs(offset) % 60]
    return ascii_rows(out)


def iso_dates(ms: np.ndarray) -> list[str]:
    """``2026-03-04`` (the UTC calendar date, or a local one if ``ms`` is already shifted)."""
    return ascii_rows(_date_time_matrix(np.asarray(ms, dtype=np.int64), 10, with_time=False))


def _random_bytes(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.frombuffer(rng.bytes(n * width), dtype=np.uint8).reshape(n, width).copy()


def _hex_matrix(raw: np.ndarray, upper: bool = False) -> np.ndarray:
    table = _HEX_UPPER if upper else _HEX
    out = np.empty((raw.shape[0], raw.shape[1] * 2), dtype=np.uint8)
    out[:, 0::2] = table[raw >> 4]
    out[:, 1::2] = table[raw & 15]
    return out


def uuid4(rng: np.random.Generator, n: int, upper: bool = False) -> list[str]:
    """Random RFC 4122 version-4 UUIDs (iOS writes them upper case)."""
    raw = _random_bytes(rng, n, 16)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _hex_matrix(raw, upper)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, size in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst : dst + size] = hexed[:, src : src + size]
    return ascii_rows(out)


def hex_ids(rng: np.random.Generator, n: int, chars: int) -> list[str]:
    """Random lower-case hex strings of ``chars`` characters (``chars`` even)."""
    return ascii_rows(_hex_matrix(_random_bytes(rng, n, chars // 2)))


def hex_of(values: np.ndarray, chars: int) -> list[str]:
    """Non-negative integers as zero-padded lower-case hex of ``chars`` characters."""
    v = np.asarray(values, dtype=np.uint64).copy()
    out = np.empty((v.size, chars), dtype=np.uint8)
    for col in range(chars - 1, -1, -1):
        out[:, col] = _HEX[(v & np.uint64(15)).astype(np.intp)]
        v >>= np.uint64(4)
    return ascii_rows(out)


def base64url_ids(rng: np.random.Generator, n: int, chars: int = 22) -> list[str]:
    """Random URL-safe base64 ids (22 characters carry 132 random bits, like SendGrid's)."""
    return ascii_rows(_B64URL[rng.integers(0, 64, size=(n, chars), dtype=np.uint8)])


def money(cents: np.ndarray) -> list[str]:
    """Whole cents → decimal strings with two places (``12345`` → ``"123.45"``)."""
    return [f"{c // 100}.{c % 100:02d}" for c in np.asarray(cents, dtype=np.int64).tolist()]


def scramble(index: np.ndarray, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` (``multiplier`` coprime to ``modulus``): unique ids."""
    return (np.asarray(index, dtype=np.int64) * multiplier + offset) % modulus
