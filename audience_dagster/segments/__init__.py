"""Segments and cohorts: definitions (YAML and the spec's tables), rule/behavior/ML compilers,
set-based membership refresh with history, and the Dagster assets that schedule it."""
