-- The collector's own schema: API keys (audience_dagster/collector/keystore.py).
CREATE SCHEMA IF NOT EXISTS collector
