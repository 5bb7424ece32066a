"""The marts' contract columns (dbt yml) as CREATE TABLE for the benchmarks."""

from __future__ import annotations

import pytest

from audience_dagster.transform.contracts import contract_columns, create_table_sql


def test_contract_columns_carry_the_yml_types_and_defaults():
    columns = {name: (data_type, default) for name, data_type, default in contract_columns("audience_profile_base")}
    assert columns["id"] == ("uuid", "gen_random_uuid()")
    assert columns["total_orders"] == ("integer", "0")
    assert columns["interests"][0] == "text[]"
    assert "engagement_score" not in columns  # scores live in marts.profile_scores


def test_create_table_sql_adds_extra_columns_after_the_contract():
    sql = create_table_sql("audience_events", extra=("note text",))
    assert sql.startswith("CREATE SCHEMA IF NOT EXISTS marts;")
    assert '"revenue" numeric(10,2)' in sql and sql.rstrip().endswith("note text\n);")


def test_a_model_without_a_contract_is_an_error():
    with pytest.raises(KeyError, match="no enforced contract"):
        contract_columns("int_events_unioned")
