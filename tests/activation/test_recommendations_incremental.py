"""Recommendations between two fits (activation/recommendations.py): only the profiles
audience_events' change log names get new lists, from the stored model, and those lists are
exactly what a pass over every profile with that model gives; the cadence, a full build of
audience_events and a missing fit each bring a new fit. Real PostgreSQL; the change log's
tables are created as dbt creates them (macros/profile_changes.sql)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from audience_dagster.activation.recommendation_model import load_model
from audience_dagster.activation.recommendations import (
    CONSUMER,
    LIVE_PROFILES,
    TypeModel,
    _item_types,
    _lists,
    _matrices,
    build_recommendations,
    read_interactions,
)
from audience_dagster.warehouse.connection import connection
from audience_dagster.warehouse.frames import copy_out
from audience_dagster.warehouse.profile_changes import CONSUMERS, LOG
from tests.activation.test_outputs import AS_OF, event, rows

WEEKLY = "0 3 * * 1"  # AS_OF (2026-11-30 00:00, a Monday) is before that day's tick
LOG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {LOG} (generation bigint NOT NULL, profile_id uuid)",
    f"CREATE TABLE IF NOT EXISTS {CONSUMERS} (model text PRIMARY KEY, generation bigint NOT NULL)",
)
LISTS = "SELECT profile_id::text, item_type, rank, item_id, score, reason FROM marts.recommendations ORDER BY 1, 2, 3"

pytestmark = pytest.mark.integration


@pytest.fixture()
def logged_shop(shop):
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        for ddl in LOG_DDL:
            cur.execute(ddl)
        cur.execute(f"TRUNCATE {LOG}, {CONSUMERS}")
        cur.execute(f"INSERT INTO {LOG} VALUES (1, NULL)")  # audience_events' full build
    for name in ("ann", "bob", "cat", "dan", "eve"):
        shop.add_person(name)
    for person, products in {"ann": "p1 p2", "bob": "p1 p2 p3", "cat": "p2 p3", "dan": "p4 p5"}.items():
        for product in products.split():
            event(shop, person, "product_viewed", product, 10)
    event(shop, "cat", "purchase", "p1", 12)
    return shop


def log_changes(shop, generation: int, *names: str, full: bool = False) -> None:
    with connection(shop.url) as conn, conn.cursor() as cur:
        if full:
            cur.execute(f"INSERT INTO {LOG} VALUES (%s, NULL)", (generation,))
        for name in names:
            cur.execute(f"INSERT INTO {LOG} VALUES (%s, %s)", (generation, shop.people[name]))


def build(shop, as_of=AS_OF, cron=WEEKLY) -> dict:
    with connection(shop.url) as conn:
        return build_recommendations(conn, as_of, 4, cron)


def every_profile_with_the_stored_model(shop, as_of) -> list[tuple]:
    """What a pass over every live profile with the stored model writes (no fit)."""
    with connection(shop.url) as conn:
        profiles = pd.Index(copy_out(conn, LIVE_PROFILES)["profile_id"])
        interactions = read_interactions(conn, as_of)
        fitted = []
        for item_type, _ in _item_types(4):
            items, model = load_model(conn, item_type) or (None, None)
            if model is not None:
                _, history, exclude = _matrices(interactions, profiles, item_type, items)
                fitted.append(TypeModel(item_type, items, model, history, exclude))
        frame, _ = _lists(fitted, profiles, 4, as_of)
    frame = frame.sort_values(["profile_id", "item_type", "rank"])
    return [
        (r.profile_id, r.item_type, r.rank, r.item_id, pytest.approx(r.score, abs=1e-6), r.reason)
        for r in frame.itertuples(index=False)
    ]


def test_between_fits_only_the_changed_profiles_get_new_lists_from_the_stored_model(logged_shop) -> None:
    shop = logged_shop
    first = build(shop)
    assert first["mode"] == "fit" and first["reason"] == "never fitted"
    before = rows(shop, LISTS)
    later = AS_OF + timedelta(hours=1)
    assert build(shop, later)["mode"] == "update"  # nothing logged: nothing rewritten
    assert rows(shop, LISTS) == before

    # ann buys p3 (her top pick), eve views p4 (a cold start no more), dan is merged into bob
    event(shop, "ann", "purchase", "p3", 0.1)
    event(shop, "eve", "product_viewed", "p4", 0.1)
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM marts.audience_profile_base WHERE id = %s", (shop.people["dan"],))
        cur.execute(
            "UPDATE marts.audience_events SET profile_id = %s WHERE profile_id = %s",
            (shop.people["bob"], shop.people["dan"]),
        )
    log_changes(shop, 2, "ann", "eve", "dan", "bob")
    update = build(shop, later)
    assert (update["mode"], update["changed_profiles"], update["profiles"]) == ("update", 4, 3)

    after = rows(shop, LISTS)
    assert after == every_profile_with_the_stored_model(shop, later)
    by = {name: [r[3] for r in after if r[0] == shop.people[name] and r[1] == "product"] for name in shop.people}
    assert "p3" not in by["ann"] and by["dan"] == []
    assert by["eve"][0] == "p5"  # p4's neighbour, from the stored model
    unchanged = [r for r in before if r[0] == shop.people["cat"]]
    assert unchanged == [r for r in after if r[0] == shop.people["cat"]]
    with connection(shop.url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT generation FROM {CONSUMERS} WHERE model = %s", (CONSUMER,))
        assert cur.fetchone()[0] == 2


def test_the_cadence_a_full_events_build_or_a_later_clock_fit_again(logged_shop) -> None:
    shop = logged_shop
    assert build(shop)["mode"] == "fit"
    assert build(shop, AS_OF + timedelta(hours=2))["mode"] == "update"
    tick = build(shop, AS_OF + timedelta(hours=4))  # past Monday 03:00
    assert tick["mode"] == "fit" and "before the tick" in tick["reason"]
    log_changes(shop, 5, full=True)
    rebuilt = build(shop, AS_OF + timedelta(hours=5))
    assert rebuilt["mode"] == "fit" and "built in full" in rebuilt["reason"]
    backfill = build(shop, AS_OF - timedelta(days=1))
    assert backfill["mode"] == "fit" and "later than this run's clock" in backfill["reason"]
    assert build(shop, AS_OF, cron=None)["mode"] == "fit"  # no cadence: every build fits
