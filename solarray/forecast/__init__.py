"""Flare forecasting: verification scores (:mod:`solarray.forecast.verify`), calibration
(:mod:`~solarray.forecast.calibration`), FPNet feature tables (:mod:`~solarray.forecast.features`),
training/forecasting helpers (:mod:`~solarray.forecast.fpnet`) and a multi-month synthetic
forecasting set (:mod:`~solarray.forecast.synthset`)."""
