"""Flare forecasting: verification scores (:mod:`solarray.forecast.verify`) and calibration."""
