"""Scores for every profile at once: engagement, willingness-to-pay, lead, health, lifecycle, RFM.

Pure pandas / numpy modules (no database, no Dagster): each takes whole columns of
``audience_profiles`` (plus per-profile event aggregates) and returns whole columns, with the
per-rule contributions that explain every score. ``assets.py`` reads and writes the warehouse.
"""
