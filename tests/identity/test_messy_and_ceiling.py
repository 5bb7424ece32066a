"""The adversarial generator's truth, and the honest ceiling's keys (pure parts)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from audience_dagster.bench.eval_identity import truth_keys
from audience_dagster.sample_data.messy import JUNK_IDS, build_sample, generate_messy


def test_messy_sample_is_deterministic_and_its_truth_is_consistent(tmp_path: Path) -> None:
    a, b = (
        generate_messy(tmp_path / "a", seed=5, people=60, chain_hops=50),
        generate_messy(tmp_path / "b", seed=5, people=60, chain_hops=50),
    )
    assert a == b
    for name in ("identifiers.csv", "raw_forms.csv", "junk_identifiers.csv", "duplicate_accounts.csv"):
        assert (tmp_path / "a" / "truth" / name).read_bytes() == (tmp_path / "b" / "truth" / name).read_bytes()
    truth = pd.read_csv(tmp_path / "a" / "truth" / "identifiers.csv", dtype=str, keep_default_na=False)
    junk = pd.read_csv(tmp_path / "a" / "truth" / "junk_identifiers.csv", dtype=str, keep_default_na=False)
    # junk belongs to nobody; every value the landing files carry for a person is in the truth
    junk_pairs = set(zip(junk.identifier_type, junk.identifier_value, strict=True))
    assert not junk_pairs & set(zip(truth.identifier_type, truth.identifier_value, strict=True))
    segment = [json.loads(line) for line in (tmp_path / "a" / "landing" / "segment" / "messy-00000.jsonl").open()]
    user_ids = {m["userId"] for m in segment if m.get("userId")}
    assert user_ids - set(JUNK_IDS) <= set(truth.loc[truth.identifier_type == "user_id", "identifier_value"])
    assert {m["type"] for m in segment} == {"identify", "page", "track", "alias", "screen"}


def test_every_junk_value_sits_in_several_fields_beside_real_ids() -> None:
    sample = build_sample(seed=1, people=60, chain_hops=10)
    fields = {
        "userId": {m.get("userId") for m in sample.segment},
        "anonymousId": {m.get("anonymousId") for m in sample.segment},
        "previousId": {m.get("previousId") for m in sample.segment},
        "device": {m.get("context", {}).get("device", {}).get("id") for m in sample.segment},
        "contact_id": {e.get("contact_id") for e in sample.sendgrid},
    }
    for value in JUNK_IDS:
        assert sum(value in seen for seen in fields.values()) >= 4, value


def test_truth_keys_cover_written_forms_and_phone_digits() -> None:
    truth = pd.Series(
        {"email:jane@x.com": "P1", "phone:+442079460958": "P1", "user_id:u-1": "P2", "user_id:U-1 ": "P3"}
    )
    forms = pd.DataFrame({"identifier_type": ["email"], "identifier_value": ["jane@x.com"],
                          "raw_value": ["mailto:JANE@X.COM"]})  # fmt: skip
    keys = truth_keys(truth, forms)
    got = set(zip(keys["key"], keys["identifier"], strict=True))
    assert ("mailto:jane@x.com", "email:jane@x.com") in got
    assert {("digits:442079460958", "phone:+442079460958"), ("digits:02079460958", "phone:+442079460958"),
            ("digits:00442079460958", "phone:+442079460958")} <= got  # fmt: skip
    assert not any(k == "u-1" for k, _ in got)  # one key naming two people proves nothing
