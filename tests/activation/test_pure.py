"""Pure activation logic: co-occurrence with hand-computed similarities, popularity fill, the
pricing policy's checks and compiled SQL, destination YAML checks, signatures and backoff."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from audience_dagster.activation.delivery import Retry, sign, verify_signature
from audience_dagster.activation.destinations_yaml import destination_from_mapping, load_destinations_each
from audience_dagster.activation.outbox import compile_plan
from audience_dagster.activation.pricing import compile_offers, policy_from_mapping
from audience_dagster.activation.recommend import ItemCooccurrence, interaction_matrix, popularity_baseline
from audience_dagster.activation.senders import idempotency_key, subscriber_hash
from audience_dagster.errors import ActivationError

# profiles 0-1 touched items {0, 1}, profile 2 {2, 3}, profile 3 {0}, profile 4 nothing
ROWS, COLS = np.array([0, 0, 1, 1, 2, 2, 3]), np.array([0, 1, 0, 1, 2, 3, 0])


def fitted(shrinkage: float = 0.0) -> tuple[ItemCooccurrence, sp.csr_matrix]:
    history = interaction_matrix(ROWS, COLS, np.ones(ROWS.size), (5, 4))
    return ItemCooccurrence(shrinkage=shrinkage).fit(history), history


def test_cosine_similarity_matches_the_hand_computed_values():
    model, _ = fitted()
    # items 0 and 1: 2 people share them, 3 and 2 people touched them -> 2 / sqrt(6)
    assert model.similarity_[0, 1] == pytest.approx(2 / math.sqrt(6))
    assert model.similarity_[2, 3] == pytest.approx(1.0)
    assert model.similarity_[0, 2] == 0 and model.similarity_[0, 0] == 0
    shrunk, _ = fitted(shrinkage=10)
    assert shrunk.similarity_[0, 1] == pytest.approx(2 / (math.sqrt(6) + 10))
    assert list(model.popularity_) == [3, 2, 1, 1]


def test_recommendations_exclude_bought_and_fill_from_popularity():
    model, history = fitted()
    bought = sp.csr_matrix(([1.0, 1.0], ([3, 0], [0, 0])), shape=(5, 4))
    recs = model.recommend(history, bought, 3)
    assert recs.items[3].tolist() == [1, 2, 3]  # item 0 bought; 1 from co-occurrence, then popular
    assert recs.from_history[3].tolist() == [True, False, False]
    assert recs.scores[3, 0] == pytest.approx(math.log(2) * 2 / math.sqrt(6), rel=1e-5)
    assert recs.items[0].tolist() == [1, 2, 3]  # profile 0 bought item 0
    assert recs.items[4].tolist() == [0, 1, 2] and not recs.from_history[4].any()  # cold start
    for row in range(5):
        assert not set(recs.items[row].tolist()) & set(bought[row].indices.tolist())
    assert popularity_baseline(model.popularity_, bought, 2).tolist() == [[1, 2], [0, 1], [0, 1], [1, 2], [0, 1]]


def test_a_list_longer_than_the_catalogue_leaves_slots_empty():
    model, history = fitted()
    everything = sp.csr_matrix(np.ones((5, 4)))
    recs = model.recommend(history, everything, 4)
    assert (recs.items == -1).all()


POLICY = {
    "guardrails": {"max_discount_pct": 20, "full_price_lookback_days": 30, "require_consent": True},
    "tiers": [
        {"name": "premium", "wtp_min": 70, "sensitivity_max": 0.3, "offer": "premium_bundle"},
        {"name": "sensitive", "sensitivity_min": 0.5, "offer": "discount", "discount_pct": 15},
        {"name": "default", "offer": "full_price"},
    ],
}


def test_policy_compiles_to_bound_parameters_in_tier_order():
    policy = policy_from_mapping(POLICY, "policy.yaml")
    sql, params = compile_offers(policy, datetime(2026, 11, 30, tzinfo=UTC))
    assert "WHEN wtp >= %(t0_0)s AND sens < %(t0_1)s THEN 0 WHEN sens >= %(t1_0)s THEN 1 WHEN true THEN 2" in sql
    assert (params["t0_0"], params["t0_1"], params["t1_pct"], params["max_discount"]) == (70, 0.3, 15, 20)
    assert "premium" not in sql and "15" not in sql  # values are parameters, never SQL text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"discount_pct": 25}, "above the guardrail max_discount_pct"),
        ({"offer": "free_beer"}, "offer must be one of"),
        ({"discount_pct": 0}, "needs discount_pct > 0"),
        ({"sensitivity_min": 3}, "between 0 and 1"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_policy_rejects_bad_tiers_naming_file_and_tier(change, message):
    bad = {**POLICY, "tiers": [POLICY["tiers"][0], {**POLICY["tiers"][1], **change}]}
    with pytest.raises(ActivationError, match=message) as info:
        policy_from_mapping(bad, "policy.yaml")
    assert "policy.yaml: tier 2" in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "x", "segment": "vip", "kind": "fax"}, "kind 'fax'"),
        ({"slug": "x", "segment": "vip", "kind": "webhook", "settings": {"url": "https://h"}}, "needs settings secret"),
        ({"slug": "x", "segment": "vip", "kind": "webhook", "settings": {"url": "ftp://h", "secret": "s"}}, "http"),
        ({"slug": "X!", "segment": "vip", "kind": "file"}, "slug must be"),
        ({"slug": "x", "segment": "vip", "kind": "file", "settings": {"formats": ["xml"]}}, "formats"),
        (
            {"slug": "x", "segment": "vip", "kind": "mailchimp", "settings": {"list_id": "1", "secret": "s"}},
            "segment_id",
        ),
    ],
)
def test_destination_definitions_are_checked(data, message):
    with pytest.raises(ActivationError, match=message):
        destination_from_mapping(data, "d.yaml")


def test_a_bad_destination_file_fails_alone(tmp_path: Path):
    (tmp_path / "good.yaml").write_text("slug: good\nsegment: vip\nkind: file\n")
    (tmp_path / "bad.yaml").write_text("slug: bad\nsegment: vip\nkind: webhook\n")
    (tmp_path / "broken.yaml").write_text("slug: [\n")
    good, bad = load_destinations_each(tmp_path)
    assert [d.slug for d in good] == ["good"]
    assert sorted(bad) == ["bad", "broken"] and "needs settings" in bad["bad"]


def test_shipped_destinations_and_policy_load():
    from audience_dagster.activation.pricing import load_policy
    from audience_dagster.config import load_settings

    settings = load_settings({})
    good, bad = load_destinations_each(settings.activation.destinations_dir)
    assert not bad and {d.kind for d in good} == {"file", "webhook", "mailchimp"}
    assert load_policy(settings.activation.pricing_policy).max_discount_pct == 20


def test_plans_filter_consent_and_email_by_kind():
    plan, skipped = compile_plan("mailchimp")
    assert "p.gdpr_consent IS TRUE AND p.do_not_track IS NOT TRUE" in plan
    assert "btrim(p.email)" in plan and "md5(lower(btrim(p.email)))" in plan
    webhook_plan, _ = compile_plan("webhook")
    assert "btrim(p.email), '') IS NOT NULL" not in webhook_plan and "p.id::text" in webhook_plan


def test_signatures_keys_and_backoff():
    body = b'{"a":1}'
    header = sign("s3cret", body, 1_700_000_000)
    assert verify_signature("s3cret", body, header, 1_700_000_100)
    assert not verify_signature("s3cret", body + b" ", header, 1_700_000_100)
    assert not verify_signature("s3cret", body, header, 1_700_001_000)  # too old: a replay
    assert not verify_signature("s3cret", body, "garbage", 1_700_000_000)
    assert idempotency_key("d", 1, 0) == idempotency_key("d", 1, 0) != idempotency_key("d", 1, 1)
    assert subscriber_hash(" Ann@Example.com ") == "257c57037d384ae37ea27a07e8a01665"  # md5("ann@example.com")
    retry = Retry(backoff_seconds=0.5)
    assert [retry.delay(i, None) for i in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry.delay(10, None) == 60 and retry.delay(0, "7") == 7 and retry.delay(0, "soon") == 0.5


def test_activation_settings_from_the_environment(tmp_path: Path):
    from audience_dagster.config import load_settings
    from audience_dagster.errors import ConfigError

    settings = load_settings(
        {
            "AUDIENCE_HOME": str(tmp_path),
            "AUDIENCE_ACTIVATION_SECRET_crm": "s1",
            "AUDIENCE_ACTIVATION_MAILCHIMP_BASE_URL": "http://127.0.0.1:9/3.0/",
            "AUDIENCE_ACTIVATION_BATCH_SIZE": "100",
        }
    ).activation
    assert settings.secrets == {"CRM": "s1"} and settings.batch_size == 100
    assert settings.mailchimp_base_url == "http://127.0.0.1:9/3.0" and settings.output_dir == tmp_path / "activation"
    with pytest.raises(ConfigError, match="AUDIENCE_ACTIVATION_BATCH_SIZE=501"):
        load_settings({"AUDIENCE_ACTIVATION_BATCH_SIZE": "501"})
    with pytest.raises(ConfigError, match="AUDIENCE_ACTIVATION_PRICING_POLICY"):
        load_settings({"AUDIENCE_ACTIVATION_PRICING_POLICY": str(tmp_path / "missing.yaml")})
