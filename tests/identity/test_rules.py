from __future__ import annotations

import pytest

from audience_dagster.errors import ConfigError
from audience_dagster.identity.rules import DEFAULT_RULES, IdentityRules, IdentityRulesError


def test_defaults_are_valid_and_limited_types_follow_priority() -> None:
    assert DEFAULT_RULES.validate() is DEFAULT_RULES
    assert DEFAULT_RULES.limited_types() == (
        "user_id",
        "email",
        "shopify_customer_id",
        "phone",
        "email_provider_id",
        "social_handle",
    )
    assert dict(DEFAULT_RULES.limits) == {
        "user_id": 1,
        "email": 3,
        "shopify_customer_id": 1,
        "phone": 2,
        "email_provider_id": 3,
        "social_handle": 5,
    }
    assert DEFAULT_RULES.device_types == {"anonymous_id", "device_id"}
    assert "shopify_order_id" in DEFAULT_RULES.person_types  # an order names one buyer


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_RULES.limits = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULT_RULES.limits["email"] = 9  # type: ignore[index]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (IdentityRules(limits={"fax": 1}), "unknown type 'fax' in limits"),
        (IdentityRules(limits={"email": 0}), r"limits\['email'\] must be an integer >= 1, got 0"),
        (IdentityRules(limits={"anonymous_id": 5}), r"limits\['anonymous_id'\]: device types are unlimited"),
        (IdentityRules(priority=(*DEFAULT_RULES.priority, "fax")), "unknown type 'fax' in priority"),
        (IdentityRules(priority=DEFAULT_RULES.priority[1:]), r"types \['user_id'\] are missing from priority"),
        (IdentityRules(priority=(*DEFAULT_RULES.priority, "email")), "type 'email' appears twice in priority"),
        (IdentityRules(extra_blocked_patterns=("[",)), "extra_blocked_patterns entry '\\['"),
    ],
)
def test_validate_names_the_bad_key(rules: IdentityRules, message: str) -> None:
    with pytest.raises(IdentityRulesError, match=message) as info:
        rules.validate()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ConfigError)
