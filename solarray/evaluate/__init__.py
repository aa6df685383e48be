"""Evaluation tables: metrics and baselines per task (segmentation, ...)."""
