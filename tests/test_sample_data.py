"""The sample-data generator: determinism, well-formed landing files and an exact ground truth.

Pure: small populations, no database. One generation (2,000 people in chunks of 1,000, with a
raised malformed rate so every source gets some) is shared by most tests.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from audience_dagster.errors import ConfigError
from audience_dagster.sample_data import GenerationReport, generate

PEOPLE = 2_000
SEED = 11
END = date(2026, 10, 31)
END_INSTANT = datetime(2026, 11, 1, tzinfo=UTC)
OPTIONS = {"malformed_rate": 0.02, "chunk_people": 1_000, "end": END}
JSON_SOURCES = ("segment", "sendgrid", "shopify", "social")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport, list]:
    out = tmp_path_factory.mktemp("sample")
    calls: list[tuple[int, int]] = []
    report = generate(PEOPLE, SEED, out, workers=1, progress=lambda d, t: calls.append((d, t)), **OPTIONS)
    return out, report, calls


@pytest.fixture(scope="module")
def out(run: tuple[Path, GenerationReport, list]) -> Path:
    return run[0]


def _digest(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _table(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "truth" / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _lines(out: Path, source: str) -> list[tuple[str, int, str]]:
    """(file relative to landing/, 1-based line number, text) of every line of a source."""
    rows = []
    for path in sorted((out / "landing" / source).glob("*")):
        rel = str(path.relative_to(out / "landing"))
        with path.open(encoding="utf-8") as f:
            rows += [(rel, i, line.rstrip("\n")) for i, line in enumerate(f, 1)]
    return rows


def _csv_rows(out: Path) -> list[tuple[str, int, str]]:
    """Data rows of the historical CSV files (each file's header, line 1, checked and skipped)."""
    rows = _lines(out, "historical_orders")
    assert {t for _, i, t in rows if i == 1} == {"order_id,customer_id,email,order_date,amount,currency"}
    return [r for r in rows if r[1] > 1]


def _malformed(out: Path) -> dict[tuple[str, int], str]:
    return {(r["file"], int(r["line"])): r["kind"] for r in _table(out, "malformed.csv")}


def _time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    return datetime.fromisoformat(text)


def _is_valid(source: str, record: object) -> bool:
    """Whether a parsed record has the required fields, with the right types, of its source."""
    if not isinstance(record, dict):
        return False
    try:
        if source == "segment":
            assert isinstance(record["messageId"], str) and record["messageId"]
            assert record.get("anonymousId") or record.get("userId")
            _time(record["timestamp"]), _time(record["receivedAt"])
            if "sentAt" in record:
                _time(record["sentAt"])
            assert isinstance(record["context"]["library"]["name"], str)
            kind = record["type"]
            assert kind in ("page", "screen", "track", "identify", "alias")
            if kind in ("page", "screen", "track"):
                assert isinstance(record["properties"], dict)
            for key in ("properties", "traits", "context"):
                assert isinstance(record.get(key, {}), dict)
            if kind == "track":
                assert record["event"]
            if kind == "page":
                assert record["context"]["page"]["url"].startswith("https://")
            if kind == "identify":
                assert isinstance(record["traits"], dict) and "email" in record["traits"]
            if kind == "alias":
                assert record["previousId"] and record["userId"]
        elif source == "sendgrid":
            assert isinstance(record["sg_event_id"], str) and len(record["sg_event_id"]) == 22
            assert isinstance(record["timestamp"], int) and record["email"]
            assert record["event"] in ("processed", "delivered", "open", "click", "bounce", "unsubscribe")
            assert isinstance(record["category"], list)
            assert isinstance(record["marketing_campaign_id"], int)
            if record["event"] in ("open", "click"):
                assert record["useragent"] and record["ip"]
            if record["event"] == "click":
                assert record["url"].startswith("https://")
            if record["event"] == "bounce":
                assert record["type"] in ("bounce", "blocked") and record["reason"]
        elif source == "shopify":
            assert isinstance(record["id"], int)
            assert _time(record["created_at"]).utcoffset() is not None
            float(record["total_price"]), float(record["subtotal_price"])
            assert record["email"] and record["line_items"] and record["currency"] == "USD"
            for item in record["line_items"]:
                assert isinstance(item["product_id"], int) and item["quantity"] >= 1
            if "customer" in record:
                assert isinstance(record["customer"]["id"], int)
        else:
            assert record["event_id"] and record["platform"] in ("instagram", "tiktok", "x", "facebook")
            assert record["action"] in ("like", "share", "comment", "follow")
            assert record["handle"].startswith("@") and "post_id" in record
            _time(record["occurred_at"])
    except (AssertionError, KeyError, TypeError, ValueError):
        return False
    return True


def _records(out: Path, source: str) -> list[dict]:
    """Valid records of a source (malformed lines skipped; duplicates kept)."""
    skip = _malformed(out)
    return [orjson.loads(t) for f, i, t in _lines(out, source) if (f, i) not in skip]


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_whatever_the_workers(out: Path, tmp_path: Path) -> None:
    generate(PEOPLE, SEED, tmp_path / "again", workers=2, **OPTIONS)
    expected = _digest(out)
    assert len(expected) == 5 * 2 + 6  # 2 chunks × 5 landing files + 6 truth files
    assert _digest(tmp_path / "again") == expected


def test_another_seed_gives_other_data(out: Path, tmp_path: Path) -> None:
    generate(PEOPLE, SEED + 1, tmp_path / "other", workers=1, **OPTIONS)
    ours, theirs = _digest(out), _digest(tmp_path / "other")
    assert ours.keys() == theirs.keys()
    assert all(ours[k] != theirs[k] for k in ours if k.startswith("landing/"))


def test_invalid_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="people=0"):
        generate(0, SEED, tmp_path)
    with pytest.raises(ConfigError, match="malformed_rate"):
        generate(10, SEED, tmp_path, malformed_rate=0.9)


# --- landing files -------------------------------------------------------------------------


@pytest.mark.parametrize("source", JSON_SOURCES)
def test_every_line_is_valid_except_exactly_the_listed_malformed(out: Path, source: str) -> None:
    malformed = _malformed(out)
    listed = 0
    for rel, line_no, text in _lines(out, source):
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError:
            record = None
        kind = malformed.get((rel, line_no))
        if kind is None:
            assert _is_valid(source, record), f"{rel}:{line_no} should be valid: {text[:200]}"
            continue
        listed += 1
        assert not _is_valid(source, record), f"{rel}:{line_no} listed as {kind} but is valid"
        if kind == "truncated_json":
            assert record is None
        elif kind in ("json_array", "json_string"):
            assert isinstance(record, list if kind == "json_array" else str)
        elif kind == "missing_id":
            id_key = {"segment": "messageId", "sendgrid": "sg_event_id", "shopify": "id", "social": "event_id"}[source]
            assert isinstance(record, dict) and id_key not in record
    assert listed == sum(1 for f, _ in malformed if f.startswith(source + "/")) > 0


def test_historical_csv_rows_are_valid_except_the_listed_ones(out: Path) -> None:
    malformed = _malformed(out)
    bad = 0
    for rel, line_no, text in _csv_rows(out):
        fields = next(csv.reader([text]))
        order_id, customer_id, email, day, amount, currency = fields
        try:
            date.fromisoformat(day)
            float(amount)
            parsed = True
        except ValueError:
            parsed = False
        assert parsed == ((rel, line_no) not in malformed), f"{rel}:{line_no}: {text}"
        bad += not parsed
        if parsed:
            assert customer_id or email.strip(), "a row names its customer somehow"
            assert currency == "USD" and (order_id == "" or order_id.isdigit())
    assert bad == sum(1 for f, _ in malformed if f.startswith("historical_orders/")) > 0


def test_at_least_once_duplicates_repeat_the_line_exactly_and_later(out: Path) -> None:
    for source, key, share in (("segment", "messageId", 0.002), ("sendgrid", "sg_event_id", 0.001)):
        malformed = _malformed(out)
        seen: dict[str, tuple[str, int, str]] = {}
        repeats = 0
        for rel, line_no, text in _lines(out, source):
            if (rel, line_no) in malformed:
                continue
            record_id = orjson.loads(text)[key]
            if record_id in seen:
                first_rel, first_line, first_text = seen[record_id]
                assert (first_rel, text) == (rel, first_text) and first_line < line_no
                repeats += 1
            else:
                seen[record_id] = (rel, line_no, text)
        assert 0.3 * share * len(seen) < repeats < 3 * share * len(seen) + 5


def test_segment_clock_skew_is_correctable_except_far_future_clocks(out: Path) -> None:
    corrected_off, skewed, far_future = [], 0, 0
    for m in _records(out, "segment"):
        received, stamp = _time(m["receivedAt"]), _time(m["timestamp"])
        if "sentAt" in m:
            true_time = received - (_time(m["sentAt"]) - stamp)
            corrected_off.append(abs((received - true_time).total_seconds()))
            skewed += abs((stamp - received).total_seconds()) > 60
        else:
            far_future += 1
            assert stamp - received > timedelta(days=300)
    assert max(corrected_off) <= 3.0
    assert max(_time(m["receivedAt"]) for m in _records(out, "segment")) < END_INSTANT + timedelta(seconds=5)
    assert 0.005 * len(corrected_off) < skewed < 0.2 * len(corrected_off)
    assert 0 < far_future < 0.01 * len(corrected_off)


def test_segment_uses_the_spec_events_and_contexts(out: Path) -> None:
    messages = _records(out, "segment")
    events = Counter(m.get("event") for m in messages if m["type"] == "track")
    for name in (
        "Product Viewed",
        "Product Added",
        "Cart Viewed",
        "Checkout Started",
        "Order Completed",
        "Products Searched",
        "Article Read",
        "Signed Up",
        "Email Subscribed",
        "Segment Consent Preference Updated",
    ):
        assert events[name] > 0, name
    libraries = Counter(m["context"]["library"]["name"] for m in messages)
    assert set(libraries) == {"analytics.js", "analytics-ios", "analytics-android"}
    app = [m for m in messages if m["context"]["library"]["name"] != "analytics.js"]
    assert all(m["context"]["device"]["type"] in ("ios", "android") for m in app)
    assert all(m["type"] != "page" for m in app)
    campaigns = [m["context"]["campaign"] for m in messages if "campaign" in m["context"]]
    assert campaigns and all(set(c) == {"name", "source", "medium", "term", "content"} for c in campaigns)
    consents = [
        m["context"]["consent"]["categoryPreferences"]
        for m in messages
        if m.get("event") == "Segment Consent Preference Updated"
    ]
    assert any(not any(c.values()) for c in consents), "some people refuse everything"
    completed = [m["properties"] for m in messages if m.get("event") == "Order Completed"]
    orders = {str(o["id"]): o for o in _records(out, "shopify")}
    matched = [p for p in completed if p["order_id"] in orders]
    assert len(matched) == len(completed) > 0.5 * len(orders)
    for p in matched:
        assert f"{p['total']:.2f}" == orders[p["order_id"]]["total_price"]


def test_shopify_orders_follow_the_admin_api_shape(out: Path) -> None:
    orders = _records(out, "shopify")
    guests = [o for o in orders if "customer" not in o]
    assert 0 < len(guests) < 0.1 * len(orders)
    for o in orders:
        items = sum(float(i["price"]) * i["quantity"] for i in o["line_items"])
        assert abs(items - float(o["subtotal_price"])) < 0.005
        total = float(o["subtotal_price"]) - float(o["total_discounts"]) + float(o["total_tax"])
        assert abs(total - float(o["total_price"])) < 0.005
        assert o["name"] == f"#{o['order_number']}"
    assert any(o["discount_codes"] for o in orders)
    assert len({o["order_number"] for o in orders}) == len(orders)


# --- ground truth ----------------------------------------------------------------------------


def _landing_identifiers(out: Path) -> dict[str, set[str]]:
    """Every identifier value the valid landing records show, as written."""
    found: dict[str, set[str]] = defaultdict(set)
    for m in _records(out, "segment"):
        found["anonymous_id"].add(m.get("anonymousId"))
        if "userId" in m:
            found["user_id"].add(m["userId"])
        if m["type"] == "alias":
            found["anonymous_id"].add(m["previousId"])
        if "device" in m["context"]:
            found["device_id"].add(m["context"]["device"]["id"])
        traits = m.get("traits", {})
        found["email"].add(traits.get("email"))
        found["phone"].add(traits.get("phone"))
        if m.get("event") == "Order Completed":
            found["shopify_order_id"].add(m["properties"]["order_id"])
    for e in _records(out, "sendgrid"):
        found["email"].add(e["email"])
        found["email_provider_id"].add(e.get("contact_id"))
    for o in _records(out, "shopify"):
        found["email"].add(o["email"])
        found["shopify_order_id"].add(str(o["id"]))
        if "customer" in o:
            found["email"].add(o["customer"]["email"])
            found["phone"].add(o["customer"]["phone"])
            found["shopify_customer_id"].add(str(o["customer"]["id"]))
    for s in _records(out, "social"):
        found["social_handle"].add(f"{s['platform']}:{s['handle']}")
        found["email"].add(s.get("email"))
    malformed = _malformed(out)
    for rel, line_no, text in _csv_rows(out):
        if (rel, line_no) not in malformed:
            order_id, customer_id, email, *_ = text.split(",")
            found["shopify_order_id"].add(order_id)
            found["shopify_customer_id"].add(customer_id)
            found["email"].add(email)
    return {k: {v for v in vs if v not in (None, "")} for k, vs in found.items()}


def _normalise(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().lower()
    if kind == "phone":
        digits = "".join(c for c in value if c.isdigit())
        return "+" + (digits if len(digits) == 11 else "1" + digits)
    if kind == "social_handle":
        platform, handle = value.split(":", 1)
        return f"{platform}:{handle.lstrip('@').lower()}"
    return value


def test_truth_lists_exactly_the_identifiers_of_the_landing_data(out: Path) -> None:
    truth: dict[str, set[str]] = defaultdict(set)
    for r in _table(out, "identifiers.csv"):
        truth[r["identifier_type"]].add(r["identifier_value"])
    junk = {(r["identifier_type"], r["identifier_value"]) for r in _table(out, "junk_identifiers.csv")}
    landing = _landing_identifiers(out)
    assert set(truth) == set(landing)
    for kind, values in landing.items():
        shown = {_normalise(kind, v) for v in values} - {v for k, v in junk if k == kind}
        assert shown == truth[kind], kind


def test_truth_emails_are_normalised_and_landing_spells_them_variously(out: Path) -> None:
    emails = [r["identifier_value"] for r in _table(out, "identifiers.csv") if r["identifier_type"] == "email"]
    assert emails and all(e == e.strip().lower() for e in emails)
    written = _landing_identifiers(out)["email"]
    assert any(e != e.strip() for e in written)
    assert any(e.strip() != e.strip().lower() for e in written)
    assert {e for e in written if e == e.strip().lower()}


def test_each_identifier_has_one_owner_except_shared_devices(out: Path) -> None:
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in _table(out, "identifiers.csv"):
        owners[(r["identifier_type"], r["identifier_value"])].add(r["person_id"])
    shared = {k for k, v in owners.items() if len(v) > 1}
    assert {kind for kind, _ in shared} <= {"anonymous_id", "device_id"}
    shared_anonymous = {v for k, v in shared if k == "anonymous_id"}
    known = sum(r["is_known"] == "true" for r in _table(out, "people.csv"))
    assert all(len(owners[("anonymous_id", v)]) == 2 for v in shared_anonymous)
    assert 0.3 * 0.01 * known <= len(shared_anonymous) <= 3 * 0.01 * known

    # both people of a household identify on the shared device with their own ids
    user_of = {
        r["identifier_value"]: r["person_id"]
        for r in _table(out, "identifiers.csv")
        if r["identifier_type"] in ("user_id", "email")
    }
    identified: dict[str, set[str]] = defaultdict(set)
    for m in _records(out, "segment"):
        if m["type"] == "identify" and m.get("anonymousId") in shared_anonymous:
            for value in (m.get("userId"), m["traits"]["email"].strip().lower()):
                if value in user_of:
                    identified[m["anonymousId"]].add(user_of[value])
    assert all(identified[a] == owners[("anonymous_id", a)] for a in shared_anonymous)


def test_junk_ids_appear_in_landing_but_not_in_truth(out: Path) -> None:
    junk = {(r["identifier_type"], r["identifier_value"]) for r in _table(out, "junk_identifiers.csv")}
    assert ("anonymous_id", "undefined") in junk
    assert {v for k, v in junk if k == "user_id"} >= {"null", "undefined", "0", "[object Object]", ""}
    assert ("email", "test@example.com") in junk
    written: dict[str, set[str]] = defaultdict(set)
    for m in _records(out, "segment"):
        written["anonymous_id"].add(m.get("anonymousId"))
        written["user_id"].add(m.get("userId"))
        written["email"].add(m.get("traits", {}).get("email"))
    written["email"] |= {e["email"] for e in _records(out, "sendgrid")}
    written["email"] |= {o["email"] for o in _records(out, "shopify")}
    assert all(value in written[kind] for kind, value in junk)
    truth = {(r["identifier_type"], r["identifier_value"]) for r in _table(out, "identifiers.csv")}
    assert not junk & truth


def test_orders_split_at_end_and_match_the_people_table(out: Path) -> None:
    people = _table(out, "people.csv")
    holdout = _table(out, "holdout_orders.csv")
    assert holdout and all(_time(h["order_at"]) >= END_INSTANT for h in holdout)
    shopify = _records(out, "shopify")
    assert all(_time(o["created_at"]) < END_INSTANT for o in shopify)
    malformed = _malformed(out)
    csv_rows = [t.split(",") for f, i, t in _csv_rows(out) if (f, i) not in malformed]
    assert all(date.fromisoformat(r[3]) < date(2025, 11, 6) for r in csv_rows)
    assert sum(int(p["orders_observed"]) for p in people) == len(shopify) + len(csv_rows)
    revenue = sum(float(o["total_price"]) for o in shopify) + sum(float(r[4]) for r in csv_rows)
    assert sum(float(p["revenue_observed"]) for p in people) == pytest.approx(revenue, abs=0.01)
    assert sum(int(p["orders_holdout"]) for p in people) == len(holdout)
    assert sum(float(p["revenue_holdout"]) for p in people) == pytest.approx(
        sum(float(h["amount"]) for h in holdout), abs=0.01
    )


def test_customers_buy_till_they_die(out: Path) -> None:
    people = _table(out, "people.csv")
    customers = [p for p in people if p["is_customer"] == "true"]
    known = [p for p in people if p["is_known"] == "true"]
    assert 0.35 * len(people) < len(known) < 0.65 * len(people)
    assert 0.2 * len(known) < len(customers) < 0.4 * len(known)
    assert all(p["is_known"] == "true" for p in customers)
    churned = [p for p in customers if p["churned_at"]]
    assert 0.2 * len(customers) < len(churned) < 0.9 * len(customers)
    assert all(_time(p["churned_at"]) < END_INSTANT and p["alive_at_end"] == "false" for p in churned)
    # after dropping out nobody buys again
    assert all(p["orders_holdout"] == "0" for p in churned)
    assert any(int(p["orders_holdout"]) > 0 for p in customers if p["alive_at_end"] == "true")
    assert all(p["orders_observed"] == "0" for p in people if p["is_customer"] == "false")


def test_event_volume_per_person_is_in_the_expected_range(run: tuple) -> None:
    out, report, calls = run
    per_person = {k: v / PEOPLE for k, v in report.counts.items()}
    assert 15 < per_person["segment_messages"] < 25
    assert 3 < per_person["sendgrid_events"] < 7
    assert 0.2 < per_person["shopify_orders"] < 0.8
    assert 0.2 < per_person["social_events"] < 0.8
    assert 20 < report.events / PEOPLE < 32
    assert (
        report.counts["segment_messages"]
        == sum(1 for _ in _records(out, "segment")) - report.duplicates["segment_messages"]
    )
    assert calls == [(1, 2), (2, 2)]
    manifest = orjson.loads((out / "truth" / "manifest.json").read_bytes())
    assert manifest["counts"] == report.counts
    assert manifest["parameters"]["people"] == PEOPLE
    assert all(p.exists() for p in report.files)
    assert report.malformed == {k: v for k, v in manifest["malformed"].items()}


# --- encoders ------------------------------------------------------------------------------


def test_vectorised_encoders_match_the_standard_library() -> None:
    import uuid

    import numpy as np

    from audience_dagster.sample_data.encode import base64url_ids, iso_dates, iso_ms, iso_offset, uuid4
    from audience_dagster.sample_data.shopify import new_york_offset_minutes

    ms = np.array([0, 1_772_627_696_789, 951_868_799_999], dtype=np.int64)
    assert iso_ms(ms) == ["1970-01-01T00:00:00.000Z", "2026-03-04T12:34:56.789Z", "2000-02-29T23:59:59.999Z"]
    assert iso_dates(ms[1:2]) == ["2026-03-04"]
    assert iso_offset(ms[1:2], np.array([-300])) == ["2026-03-04T07:34:56-05:00"]
    # US daylight saving time 2026: from 2026-03-08 07:00 UTC to 2026-11-01 06:00 UTC
    edges = [
        datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    ]
    stamps = np.array([int(e.timestamp() * 1000) for e in edges])
    assert new_york_offset_minutes(stamps).tolist() == [-300, -240, -240, -300]
    rng = np.random.default_rng(0)
    assert all(uuid.UUID(u).version == 4 for u in uuid4(rng, 100))
    ids = base64url_ids(rng, 100)
    assert all(
        len(i) == 22 and set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids
    )
    assert len(set(ids)) == 100
