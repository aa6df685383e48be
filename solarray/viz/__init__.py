"""Figures: the situational-awareness map (:mod:`solarray.viz.situational_map`: SA-AI 2025's HMI,
193 Å and 304 Å panels with AR/CH/FL contours, region numbers and probabilities placed beside the
contours by :mod:`solarray.viz.map_labels` — used by the demo, the forecaster service and SPNet
evaluation; :mod:`solarray.viz.forecast_map`: the PNG of one forecast) and verification plots
(:mod:`solarray.viz.verification`)."""
