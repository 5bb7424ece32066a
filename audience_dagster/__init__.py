"""Audience intelligence: a Dagster + dbt + PostgreSQL code location."""
