"""The record builders of the adversarial identity sample (:mod:`.messy`): who the people are,
Segment / Shopify records in the formats the ingest reads, and the truth each record adds."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import phonenumbers

from audience_dagster.sample_data.names import FIRST_NAMES, LAST_NAMES

# (region, how the record names the country: traits country, locale, Shopify code)
REGIONS = (
    ("US", "USA", "en-US", "US"),
    ("GB", "United Kingdom", "en-GB", "GB"),
    ("DE", "Germany", "de-DE", "DE"),
    ("FR", "France", "fr-FR", "FR"),
    ("IN", "India", "en-IN", "IN"),
    ("CA", "Canada", "en-CA", "CA"),
)
START = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Sample:
    """What is written: landing records per source and the truth tables."""

    segment: list[dict] = field(default_factory=list)
    sendgrid: list[dict] = field(default_factory=list)
    shopify: list[dict] = field(default_factory=list)
    social: list[dict] = field(default_factory=list)
    orders_csv: list[list[str]] = field(default_factory=list)
    truth: set[tuple[str, str, str]] = field(default_factory=set)
    raw_forms: set[tuple[str, str, str]] = field(default_factory=set)
    junk: set[tuple[str, str]] = field(default_factory=set)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    clock: int = 0

    def when(self) -> str:
        self.clock += 1
        return (START + timedelta(minutes=7 * self.clock)).isoformat().replace("+00:00", "Z")

    def own(self, person: str, kind: str, canonical: str, written: str | None = None) -> str:
        self.truth.add((kind, canonical, person))
        if written is not None and written != canonical:
            self.raw_forms.add((kind, canonical, written))
        return canonical if written is None else written


@dataclass(frozen=True)
class Person:
    pid: str
    index: int
    first: str
    last: str
    city: str
    region: tuple[str, str, str, str]
    user_id: str
    email: str
    phone_e164: str
    phone_national: str
    anon: str
    contact: str
    customer: int


def phone_number(region: str, index: int) -> tuple[str, str]:
    """A valid number of ``region`` unique to ``index``: (E.164, national format)."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    for bump in range(50):
        candidate = digits[:-5] + f"{(index * 7 + bump * 10_007) % 100_000:05d}"
        number = phonenumbers.parse("+" + str(example.country_code) + candidate)
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    raise ValueError(f"no valid {region} number near {digits}")


def people(rng: np.random.Generator, n: int) -> list[Person]:
    out = []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        e164, national = phone_number(region[0], i)
        first, last = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))], LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        out.append(
            Person(
                f"M{i + 1:05d}",
                i,
                first.capitalize(),
                last.capitalize(),
                f"city{i % 17}",
                region,
                f"usr-{i:05d}-{rng.integers(1 << 30):x}",
                f"{first}.{last}{i}@mail{i % 5}.com",
                e164,
                national,
                f"anon-{i:05d}-{rng.integers(1 << 30):x}",
                f"sg-{i:05d}",
                7_000_000_000 + i,
            )
        )
    return out


def segment(s: Sample, kind: str, **fields: object) -> dict:
    at = s.when()
    message = {"type": kind, "messageId": f"m-{len(s.segment):07d}", "timestamp": at, "sentAt": at, "receivedAt": at}
    message.update({k: v for k, v in fields.items() if v is not None})
    s.segment.append(message)
    return message


def identify(s: Sample, p: Person, user_id: str | None, email: str | None, phone: str | None, **extra) -> None:
    traits = {
        "email": email,
        "phone": phone,
        "firstName": p.first,
        "lastName": p.last,
        "address": {"city": p.city, "country": extra.pop("country", p.region[1])},
    }
    context = {"locale": extra.pop("locale", p.region[2]), **extra.pop("context", {})}
    segment(
        s,
        "identify",
        userId=user_id,
        anonymousId=extra.pop("anonymous_id", p.anon),
        traits={k: v for k, v in traits.items() if v is not None},
        context=context,
    )


def order(s: Sample, p: Person | None, customer: int | None, email: str, phone: str | None, country: str) -> None:
    order_id = 5_000_000_000 + len(s.shopify)
    if p is not None:
        s.own(p.pid, "shopify_order_id", str(order_id))
        if customer is not None:
            s.own(p.pid, "shopify_customer_id", str(customer))
    record = {
        "id": order_id,
        "created_at": s.when(),
        "total_price": "25.00",
        "currency": "USD",
        "email": email,
        "line_items": [{"id": order_id * 10, "title": "Mug", "quantity": 1, "price": "25.00"}],
    }
    if customer is not None:
        record["customer"] = {
            "id": customer,
            "email": email,
            "phone": phone,
            "first_name": p.first if p else None,
            "last_name": p.last if p else None,
            "default_address": {"country_code": country},
        }
    s.shopify.append(record)


def write_rows(path: Path, header: str, rows: Iterator | list) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header.split(","))
        writer.writerows(sorted(rows))
