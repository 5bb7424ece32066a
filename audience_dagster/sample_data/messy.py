"""``audience generate --messy``: an adversarial identity sample, with its ground truth.

Landing files in the same formats as the realistic generator (Segment, SendGrid, Shopify,
social, historical-order CSV), written so that a resolver that trusts identifiers merges
strangers and one that ignores evidence misses people:

* **junk in every field**: ``guest``, `` NULL ``, ``undefined``, ``{{user_id}}``, the all-zeros
  UUID, ``0`` … as user ids, anonymous ids, device ids, alias ``previousId``, SendGrid contact
  ids, Shopify customer ids, CSV customer ids and social handles; ``test@test.com``,
  ``noreply@…``, ``a@b.c``, ``n/a`` as emails; ``0000000000``, ``123-456-7890`` as phones —
  each shared by many strangers, beside their real identifiers;
* **values shared by many people that no list knows**: a store phone typed for walk-in
  customers, a staff address on historical orders, a recycled SendGrid contact id (the
  shared-value guard must catch them);
* **shared devices**: households whose members log in on one laptop and one tablet;
* **email variants**: ``mailto:``, Unicode whitespace, a trailing root dot, ``Name <address>``,
  capitals, an IDN domain written in Unicode and in ``xn--`` form;
* **phones with country context**: UK, German, French, Indian and North American numbers in
  national (``020 …``), international (``+44 …``) and ``00`` forms, with the country in
  ``traits.address.country``, ``context.locale`` or the Shopify address;
* **Segment semantics**: user-id → user-id alias chains, a long chain (``chain_hops``), alias
  loops, identifies whose user id is junk (their email ↔ anonymous id link must hold);
* **over-limit links** (a person with five emails) and **reused ids** (a customer id two stores
  gave to two people);
* **fuzzy duplicates**: people with a second, unlinked account (same name, city, similar email).

``truth/identifiers.csv`` gives each identifier's owner (canonical form), ``truth/raw_forms.csv``
every other spelling written, ``truth/junk_identifiers.csv`` the values that belong to nobody,
``truth/duplicate_accounts.csv`` the unlinked second accounts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import phonenumbers

from audience_dagster.sample_data.names import FIRST_NAMES, LAST_NAMES

JUNK_IDS = ("guest", " NULL ", "undefined", "{{user_id}}", "00000000-0000-0000-0000-000000000000", "0", "N/A")
JUNK_EMAILS = ("test@test.com", "noreply@harborandpine.com", "a@b.c", "n/a", " TEST@EXAMPLE.COM ")
JUNK_PHONES = ("0000000000", "123-456-7890", "+1 000 000 0000", "555-555-5555")
JUNK_HANDLES = ("null", "undefined", "@unknown")
# values many people share that no junk list knows: the shared-value guard's cases
STORE_PHONE = "(415) 555-2671"
STAFF_EMAIL = "orders@harborandpine-store.com"
RECYCLED_CONTACT = "c-000123"
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


def _phone(region: str, index: int) -> tuple[str, str]:
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


def _people(rng: np.random.Generator, n: int) -> list[Person]:
    out = []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        e164, national = _phone(region[0], i)
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


def _segment(s: Sample, kind: str, **fields: object) -> dict:
    at = s.when()
    message = {"type": kind, "messageId": f"m-{len(s.segment):07d}", "timestamp": at, "sentAt": at, "receivedAt": at}
    message.update({k: v for k, v in fields.items() if v is not None})
    s.segment.append(message)
    return message


def _identify(s: Sample, p: Person, user_id: str | None, email: str | None, phone: str | None, **extra) -> None:
    traits = {
        "email": email,
        "phone": phone,
        "firstName": p.first,
        "lastName": p.last,
        "address": {"city": p.city, "country": extra.pop("country", p.region[1])},
    }
    context = {"locale": extra.pop("locale", p.region[2]), **extra.pop("context", {})}
    _segment(
        s,
        "identify",
        userId=user_id,
        anonymousId=extra.pop("anonymous_id", p.anon),
        traits={k: v for k, v in traits.items() if v is not None},
        context=context,
    )


def _base(s: Sample, p: Person) -> None:
    """Every person: an identify, page views, emails, an order, a social action."""
    s.own(p.pid, "user_id", p.user_id)
    s.own(p.pid, "anonymous_id", p.anon)
    email = s.own(p.pid, "email", p.email, p.email if p.index % 3 else p.email.title())
    national = p.index % 2 == 0
    phone = s.own(p.pid, "phone", p.phone_e164, p.phone_national if national else p.phone_e164)
    _identify(s, p, p.user_id, email, phone)
    for _ in range(2):
        _segment(s, "page", anonymousId=p.anon, userId=p.user_id if p.index % 4 else None, name="Home")
    s.own(p.pid, "email_provider_id", p.contact)
    s.sendgrid.append(
        {
            "email": email,
            "event": "delivered",
            "sg_event_id": f"sg-{len(s.sendgrid):07d}",
            "sg_message_id": f"msg-{p.index}",
            "timestamp": 1_772_400_000 + s.clock,
            "contact_id": p.contact,
        }
    )
    if p.index % 3 != 2:
        _order(s, p, p.customer, p.email, p.phone_national, p.region[3])
    if p.index % 4 == 0:
        handle = f"{p.first}{p.last}{p.index}"
        s.own(p.pid, "social_handle", f"instagram:{handle.lower()}")
        s.social.append(
            {
                "event_id": f"so-{len(s.social):06d}",
                "platform": "instagram",
                "action": "lead_form",
                "handle": "@" + handle,
                "email": p.email,
                "occurred_at": s.when(),
            }
        )


def _order(s: Sample, p: Person | None, customer: int | None, email: str, phone: str | None, country: str) -> None:
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


def _junk_everywhere(s: Sample, people: list[Person]) -> None:
    """Junk beside real ids, in every field, each junk value shared by many people."""
    for k, p in enumerate(people):
        junk_id, junk_email, junk_phone = (
            JUNK_IDS[k % len(JUNK_IDS)],
            JUNK_EMAILS[k % len(JUNK_EMAILS)],
            JUNK_PHONES[k % len(JUNK_PHONES)],
        )
        second_anon = s.own(p.pid, "anonymous_id", f"{p.anon}-junkid")
        # an identify whose user id is junk keeps its email <-> anonymous id link
        _identify(s, p, junk_id, p.email, junk_phone, anonymous_id=second_anon)
        _segment(
            s,
            "track",
            anonymousId=junk_id,
            userId=p.user_id,
            event="Viewed",
            context={"device": {"id": JUNK_IDS[(k + 1) % len(JUNK_IDS)]}},
        )
        _segment(s, "alias", userId=p.user_id, previousId=junk_id)
        s.sendgrid.append(
            {
                "email": p.email,
                "event": "open",
                "sg_event_id": f"sg-{len(s.sendgrid):07d}",
                "timestamp": 1_772_400_000 + s.clock,
                "contact_id": junk_id,
            }
        )
        s.sendgrid.append(
            {
                "email": junk_email,
                "event": "delivered",
                "sg_event_id": f"sg-{len(s.sendgrid):07d}",
                "timestamp": 1_772_400_000 + s.clock,
                "contact_id": p.contact,
            }
        )
        _order(s, p, 0 if k % 2 else None, junk_email, junk_phone, p.region[3])
        s.orders_csv.append(
            [
                f"H{len(s.orders_csv):06d}",
                "guest" if k % 2 else " Guest ",
                s.own(p.pid, "email", p.email),
                "2026-02-01",
                "10.00",
                "USD",
            ]
        )
        s.own(p.pid, "shopify_order_id", f"H{len(s.orders_csv) - 1:06d}")
        s.social.append(
            {
                "event_id": f"so-{len(s.social):06d}",
                "platform": "tiktok",
                "action": "lead_form",
                "handle": JUNK_HANDLES[k % len(JUNK_HANDLES)],
                "email": p.email,
                "occurred_at": s.when(),
            }
        )
        for kind, value in (
            ("user_id", junk_id),
            ("anonymous_id", junk_id),
            ("email", junk_email),
            ("phone", junk_phone),
        ):
            s.junk.add((kind, value))


def _shared_values(s: Sample, people: list[Person]) -> None:
    """Values many people share that no junk list knows (the guard's cases)."""
    for p in people[:10]:  # walk-in customers, each with their own customer id
        _order(s, p, p.customer, p.email, STORE_PHONE, "US")
    for k, p in enumerate(people[10:18]):  # staff typed their own address for phone orders
        s.orders_csv.append([f"S{k:05d}", str(p.customer), STAFF_EMAIL, "2026-02-02", "12.00", "USD"])
        s.own(p.pid, "shopify_order_id", f"S{k:05d}")
        s.own(p.pid, "shopify_customer_id", str(p.customer))
        s.orders_csv.append([f"T{k:05d}", str(p.customer), s.own(p.pid, "email", p.email), "2026-02-03", "9.00", "USD"])
        s.own(p.pid, "shopify_order_id", f"T{k:05d}")
    for p in people[18:26]:  # a recycled provider contact id
        s.sendgrid.append(
            {
                "email": p.email,
                "event": "bounce",
                "sg_event_id": f"sg-{len(s.sendgrid):07d}",
                "timestamp": 1_772_400_000 + s.clock,
                "contact_id": RECYCLED_CONTACT,
            }
        )
    s.junk |= {("phone", STORE_PHONE), ("email", STAFF_EMAIL), ("email_provider_id", RECYCLED_CONTACT)}


def _households(s: Sample, people: list[Person]) -> None:
    """Two or three people logging in on one laptop (anonymous id) and one tablet (device id)."""
    for h in range(0, min(len(people), 30), 3):
        laptop, tablet = f"family-laptop-{h}", f"family-tablet-{h}"
        for p in people[h : h + 3]:
            _segment(s, "page", anonymousId=laptop, userId=p.user_id, name="Account")
            _segment(
                s,
                "screen",
                anonymousId=f"{p.anon}-app",
                userId=p.user_id,
                name="Home",
                context={"device": {"id": tablet}},
            )
            s.own(p.pid, "anonymous_id", laptop)
            s.own(p.pid, "device_id", tablet)
            s.own(p.pid, "anonymous_id", f"{p.anon}-app")


def _variants(s: Sample, people: list[Person]) -> None:
    """Emails and phones written every way people and forms write them."""
    for k, p in enumerate(people):
        local, domain = p.email.split("@")
        forms = (
            f"mailto:{p.email.upper()}",
            f"\u00a0{p.email}\u200b",
            f"{p.email}.",
            f"{p.first} {p.last} <{p.email}>",
            f"\t{local}@{domain.upper()}\n",
        )
        written = s.own(p.pid, "email", p.email, forms[k % len(forms)])
        cc = str(phonenumbers.parse(p.phone_e164).country_code)
        phones = (p.phone_national, p.phone_e164, "00" + p.phone_e164[1:], f"+{cc} {p.phone_national.lstrip('0')}")
        phone = s.own(p.pid, "phone", p.phone_e164, phones[k % len(phones)])
        how = k % 3  # the country from traits, from the locale only, or from nowhere but the + / 00 prefix
        country = p.region[1] if how == 0 else None
        locale = p.region[2] if how == 1 else "en"
        if how == 2 and phone == p.phone_national and p.region[0] not in ("US", "CA"):
            phone = s.own(p.pid, "phone", p.phone_e164, phones[1])
        _identify(s, p, p.user_id, written, phone, country=country, locale=locale)
    for k, p in enumerate(people[:12]):  # an IDN domain, in Unicode and in ASCII form
        canonical = f"{p.first.lower()}{k}@xn--bcher-kva.de"
        s.own(p.pid, "email", canonical, f"{p.first}{k}@Bücher.de")
        _identify(s, p, p.user_id, f"{p.first}{k}@Bücher.de", None)
        s.sendgrid.append(
            {
                "email": canonical,
                "event": "delivered",
                "sg_event_id": f"sg-{len(s.sendgrid):07d}",
                "timestamp": 1_772_400_000 + s.clock,
                "contact_id": p.contact,
            }
        )


def _aliases(s: Sample, people: list[Person], chain_hops: int) -> None:
    """userId → userId chains (4 hops, ``chain_hops``), loops, classic anonymous → user aliases."""
    for k, p in enumerate(people[:20]):
        ids = [p.user_id] + [s.own(p.pid, "user_id", f"{p.user_id}-v{j}") for j in range(1, 4)]
        for old, new in zip(ids, ids[1:], strict=False):
            _segment(s, "track", userId=old, event="Signed In")
            _segment(s, "alias", userId=new, previousId=old)
        if k % 4 == 0:  # a loop back to the first id
            _segment(s, "alias", userId=ids[0], previousId=ids[-1])
        pre = s.own(p.pid, "anonymous_id", f"{p.anon}-pre")
        _segment(s, "page", anonymousId=pre, name="Landing")
        _segment(s, "alias", userId=ids[-1], previousId=pre)
    if chain_hops and people:
        p = people[-1]
        chain = [p.user_id] + [s.own(p.pid, "user_id", f"{p.user_id}-hop{j}") for j in range(1, chain_hops + 1)]
        for old, new in zip(chain, chain[1:], strict=False):
            _segment(s, "alias", userId=new, previousId=old)
        _segment(s, "track", userId=chain[-1], event="Signed In")


def _limits_and_reuse(s: Sample, people: list[Person]) -> None:
    """A person with five emails (two over the limit), a customer id two stores reused."""
    p = people[1]
    for j in range(5):
        _identify(s, p, p.user_id, s.own(p.pid, "email", f"{p.first.lower()}.alias{j}@mail9.com"), None)
    a, b = people[2], people[3]
    s.orders_csv.append(["R00001", "reused-9001", s.own(a.pid, "email", a.email), "2026-01-05", "5.00", "USD"])
    s.orders_csv.append(["R00002", "reused-9001", s.own(b.pid, "email", b.email), "2026-01-06", "5.00", "USD"])
    s.own(a.pid, "shopify_order_id", "R00001")
    s.own(b.pid, "shopify_order_id", "R00002")
    s.truth |= {("shopify_customer_id", "reused-9001", a.pid), ("shopify_customer_id", "reused-9001", b.pid)}


def _second_accounts(s: Sample, people: list[Person]) -> None:
    """A second, unlinked account (same name, city, similar email, no shared id): fuzzy only."""
    for k, p in enumerate(people[40:52]):
        other_email = f"{p.first.lower()}{p.last.lower()}{p.index}@work{k}.io"
        other_user = s.own(p.pid, "user_id", f"{p.user_id}-work")
        s.own(p.pid, "email", other_email)
        anon = s.own(p.pid, "anonymous_id", f"{p.anon}-work")
        _identify(s, p, other_user, other_email, None, anonymous_id=anon)
        s.duplicates.append((p.pid, f"user_id:{p.user_id}", f"user_id:{other_user}"))


def build_sample(seed: int = 7, people: int = 300, chain_hops: int = 2_000) -> Sample:
    if people < 60:
        raise ValueError("the messy sample needs at least 60 people (its cases take the first 52)")
    rng = np.random.default_rng(seed)
    crowd = _people(rng, people)
    s = Sample()
    for p in crowd:
        _base(s, p)
    _junk_everywhere(s, crowd)
    _shared_values(s, crowd)
    _households(s, crowd)
    _variants(s, crowd)
    _aliases(s, crowd, chain_hops)
    _limits_and_reuse(s, crowd)
    _second_accounts(s, crowd)
    return s


def _rows(path: Path, header: str, rows: Iterator | list) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header.split(","))
        writer.writerows(sorted(rows))


def generate_messy(out_dir: Path, seed: int = 7, people: int = 300, chain_hops: int = 2_000) -> dict[str, int]:
    """Write ``landing/`` and ``truth/`` under ``out_dir``; returns record counts."""
    s = build_sample(seed, people, chain_hops)
    landing, truth = out_dir / "landing", out_dir / "truth"
    for name, records in (
        ("segment", s.segment),
        ("sendgrid", s.sendgrid),
        ("shopify", s.shopify),
        ("social", s.social),
    ):
        (landing / name).mkdir(parents=True, exist_ok=True)
        with (landing / name / "messy-00000.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (landing / "historical_orders").mkdir(parents=True, exist_ok=True)
    with (landing / "historical_orders" / "messy-orders.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [["order_id", "customer_id", "email", "order_date", "amount", "currency"], *s.orders_csv]
        )
    truth.mkdir(parents=True, exist_ok=True)
    _rows(truth / "identifiers.csv", "identifier_type,identifier_value,person_id", s.truth)
    _rows(truth / "raw_forms.csv", "identifier_type,identifier_value,raw_value", s.raw_forms)
    _rows(truth / "junk_identifiers.csv", "identifier_type,identifier_value", s.junk)
    _rows(truth / "duplicate_accounts.csv", "person_id,identifier_a,identifier_b", s.duplicates)
    manifest = {
        "generator": "audience_dagster.sample_data.messy",
        "parameters": {"people": people, "seed": seed, "chain_hops": chain_hops},
    }
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {
        "people": people,
        "segment": len(s.segment),
        "sendgrid": len(s.sendgrid),
        "shopify": len(s.shopify),
        "social": len(s.social),
        "historical_orders": len(s.orders_csv),
        "truth_identifiers": len(s.truth),
    }
