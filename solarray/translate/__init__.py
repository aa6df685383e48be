"""Image translation (Park 2019; Shen 2025's ControlNet-style variant): Pix2Pix HMI → AIA and
AIA → AIA, trained by the generic loop; evaluation in physical units (CC, RE, PPE10 on the disk),
baselines, side-by-side figures, and channel selection as parallel Ray Tune trials.

* :mod:`~solarray.translate.data` — input/target pairs from ingest's shards;
* :mod:`~solarray.translate.training` — one translation run (:func:`solarray.train.loop.fit`);
* :mod:`~solarray.translate.predict` — generate with a checkpoint, channel checks;
* :mod:`~solarray.translate.baselines` — mean training image, per-pixel linear fit on |B|;
* :mod:`~solarray.translate.evaluation` — Park 2019's table on inverse-scaled on-disk pixels;
* :mod:`~solarray.translate.figures` — input / target / generated / difference PNGs;
* :mod:`~solarray.translate.selection` — one Tune trial per input combination, ranked by CC.
"""
