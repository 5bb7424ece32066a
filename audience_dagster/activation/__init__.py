"""Activation: segments out to the tools people use (destinations), recommendations, next best
actions and WTP-based offers. See docs/activation.md."""
