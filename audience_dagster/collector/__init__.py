"""The collector: a Segment-compatible tracking API, SendGrid and Shopify webhooks, and the
profile API, served by ``audience serve`` (see docs/collector.md).

Pure modules (no Dagster, no database): ``auth``, ``limits``, ``payloads``, ``signatures``,
``profiles``. The spool (``spool``) makes accepted batches durable and publishes them into the
landing folder for ingest; ``keystore`` keeps the keys; ``service`` and ``app`` are the
server; ``definitions`` shows the intake in Dagster.
"""
