"""Metrics as pure functions over arrays (numpy/scipy/sklearn; no models, no plotting, no I/O).

* :mod:`solarray.metrics.verification` — binary-event forecast verification: confusion counts that
  add across Ray workers, TSS/HSS/F1/..., BS/BSS, ROC, reliability, the SA-AI 2025 Table 4 report;
* :mod:`solarray.metrics.calibration` — Platt / isotonic / threshold-map probability calibrators
  (the dicts stored in FPNet checkpoints);
* :mod:`solarray.metrics.segmentation` — IoU and pixel accuracy per feature (SA-AI 2025 Table 2) and
  the threshold baseline;
* :mod:`solarray.metrics.representation` — cross-modal retrieval top-k and linear-probe TSS.
"""
