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
from pathlib import Path

import numpy as np
import phonenumbers

from audience_dagster.sample_data.messy_records import Person, Sample, identify, order, segment, write_rows
from audience_dagster.sample_data.messy_records import people as make_people

JUNK_IDS = ("guest", " NULL ", "undefined", "{{user_id}}", "00000000-0000-0000-0000-000000000000", "0", "N/A")
JUNK_EMAILS = ("test@test.com", "noreply@harborandpine.com", "a@b.c", "n/a", " TEST@EXAMPLE.COM ")
JUNK_PHONES = ("0000000000", "123-456-7890", "+1 000 000 0000", "555-555-5555")
JUNK_HANDLES = ("null", "undefined", "@unknown")
# values many people share that no junk list knows: the shared-value guard's cases
STORE_PHONE = "(415) 555-2671"
STAFF_EMAIL = "orders@harborandpine-store.com"
RECYCLED_CONTACT = "c-000123"


def _base(s: Sample, p: Person) -> None:
    """Every person: an identify, page views, emails, an order, a social action."""
    s.own(p.pid, "user_id", p.user_id)
    s.own(p.pid, "anonymous_id", p.anon)
    email = s.own(p.pid, "email", p.email, p.email if p.index % 3 else p.email.title())
    national = p.index % 2 == 0
    phone = s.own(p.pid, "phone", p.phone_e164, p.phone_national if national else p.phone_e164)
    identify(s, p, p.user_id, email, phone)
    for _ in range(2):
        segment(s, "page", anonymousId=p.anon, userId=p.user_id if p.index % 4 else None, name="Home")
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
        order(s, p, p.customer, p.email, p.phone_national, p.region[3])
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
        identify(s, p, junk_id, p.email, junk_phone, anonymous_id=second_anon)
        segment(
            s,
            "track",
            anonymousId=junk_id,
            userId=p.user_id,
            event="Viewed",
            context={"device": {"id": JUNK_IDS[(k + 1) % len(JUNK_IDS)]}},
        )
        segment(s, "alias", userId=p.user_id, previousId=junk_id)
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
        order(s, p, 0 if k % 2 else None, junk_email, junk_phone, p.region[3])
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
        order(s, p, p.customer, p.email, STORE_PHONE, "US")
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
            segment(s, "page", anonymousId=laptop, userId=p.user_id, name="Account")
            segment(
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
        identify(s, p, p.user_id, written, phone, country=country, locale=locale)
    for k, p in enumerate(people[:12]):  # an IDN domain, in Unicode and in ASCII form
        canonical = f"{p.first.lower()}{k}@xn--bcher-kva.de"
        s.own(p.pid, "email", canonical, f"{p.first}{k}@Bücher.de")
        identify(s, p, p.user_id, f"{p.first}{k}@Bücher.de", None)
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
            segment(s, "track", userId=old, event="Signed In")
            segment(s, "alias", userId=new, previousId=old)
        if k % 4 == 0:  # a loop back to the first id
            segment(s, "alias", userId=ids[0], previousId=ids[-1])
        pre = s.own(p.pid, "anonymous_id", f"{p.anon}-pre")
        segment(s, "page", anonymousId=pre, name="Landing")
        segment(s, "alias", userId=ids[-1], previousId=pre)
    if chain_hops and people:
        p = people[-1]
        chain = [p.user_id] + [s.own(p.pid, "user_id", f"{p.user_id}-hop{j}") for j in range(1, chain_hops + 1)]
        for old, new in zip(chain, chain[1:], strict=False):
            segment(s, "alias", userId=new, previousId=old)
        segment(s, "track", userId=chain[-1], event="Signed In")


def _limits_and_reuse(s: Sample, people: list[Person]) -> None:
    """A person with five emails (two over the limit), a customer id two stores reused."""
    p = people[1]
    for j in range(5):
        identify(s, p, p.user_id, s.own(p.pid, "email", f"{p.first.lower()}.alias{j}@mail9.com"), None)
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
        identify(s, p, other_user, other_email, None, anonymous_id=anon)
        s.duplicates.append((p.pid, f"user_id:{p.user_id}", f"user_id:{other_user}"))


def build_sample(seed: int = 7, people: int = 300, chain_hops: int = 2_000) -> Sample:
    if people < 60:
        raise ValueError("the messy sample needs at least 60 people (its cases take the first 52)")
    rng = np.random.default_rng(seed)
    crowd = make_people(rng, people)
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
    write_rows(truth / "identifiers.csv", "identifier_type,identifier_value,person_id", s.truth)
    write_rows(truth / "raw_forms.csv", "identifier_type,identifier_value,raw_value", s.raw_forms)
    write_rows(truth / "junk_identifiers.csv", "identifier_type,identifier_value", s.junk)
    write_rows(truth / "duplicate_accounts.csv", "person_id,identifier_a,identifier_b", s.duplicates)
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
