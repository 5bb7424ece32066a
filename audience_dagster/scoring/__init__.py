"""Scores for every profile at once: engagement, willingness-to-pay, lead, health, lifecycle, RFM.

One implementation: one set-based statement compiled by :mod:`.sql` from the parameters
(:mod:`.parameters`) and the user's WTP rules (:mod:`.rules`), run by :mod:`.warehouse` and
reported by the Dagster assets (:mod:`.assets`). The tests compare it against an independent
pandas oracle (``tests/scoring/oracle/``).
"""
