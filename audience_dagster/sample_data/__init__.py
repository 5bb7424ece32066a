"""Deterministic, vectorised generator of realistic landing files and their ground truth.

``generate(people, seed, out_dir)`` simulates a population (latent engagement, devices and
anonymous ids, identities, a buy-till-you-die purchase process, email subscriptions, social
handles) and writes what a store's pipelines would receive — Segment messages, SendGrid
webhook events, Shopify orders, social engagement and a historical orders CSV, with the
usual faults (duplicates, malformed lines, clock skew, junk ids, spelling variants) — plus
the ground truth (who owns every identifier, latent traits, holdout purchases).
"""

from __future__ import annotations

from audience_dagster.sample_data.generator import GenerationReport, generate

__all__ = ["GenerationReport", "generate"]
