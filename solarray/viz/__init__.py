"""Figures: the situational-awareness map (:mod:`solarray.viz.situational_map`: seed 004's HMI,
193 Å and 304 Å panels with AR/CH/FL contours, region numbers and probabilities — used by the
demo, the forecaster service and SPNet evaluation) and verification plots
(:mod:`solarray.viz.verification`)."""
