"""Predictions: churn risk, lifetime value, next purchase and upgrade per profile."""
