"""Flare forecasting: forecast CSVs for verification (:mod:`~solarray.forecast.verification_io`;
the scores and calibration are :mod:`solarray.metrics.verification` and
:mod:`solarray.metrics.calibration`), FPNet feature tables (:mod:`~solarray.forecast.features`),
FPNet frames, examples (the one AR crop for training and serving), training,
prediction and baselines (:mod:`~solarray.forecast.frames`, :mod:`~solarray.forecast.examples`,
:mod:`~solarray.forecast.training`, :mod:`~solarray.forecast.prediction`,
:mod:`~solarray.forecast.baselines`); the multi-month synthetic forecasting set is
:mod:`solarray.data.synthetic.forecast_set`."""
