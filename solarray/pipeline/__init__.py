"""The perception → analysis → forecast cycle on one observation, as a library (no Ray).

Used by the Ray Serve app (:mod:`solarray.serve`, one deployment per stage), ``solarray demo``
and batch forecasting::

    sample = sample_from_fits(files, InputConfig())          # inputs: uploads / a dataset sample
    models = load_models()                                   # model_set: checkpoints per role
    result = run_cycle(sample, models, CycleConfig(), history=FlareHistory.load(xrs=...))
    result.to_json()                                         # response: what POST /v1/forecast returns
    map_png(result.map_inputs())                             # viz.forecast_map: the map PNG

Modules, in the order a cycle uses them:

* :mod:`~solarray.pipeline.inputs` — untrusted FITS uploads / a shard sample → a validated
  :class:`~solarray.pipeline.sample.Sample` (:mod:`~solarray.pipeline.sample`);
* :mod:`~solarray.pipeline.model_set` — the checkpoint of each role (configured, the demo's, or a
  tiny untrained stand-in marked :data:`~solarray.pipeline.model_set.UNTRAINED`);
* :mod:`~solarray.pipeline.flare_history` — GOES XRS / located flares / F10.7 → flare index;
* :mod:`~solarray.pipeline.perception` (SPNet), :mod:`~solarray.pipeline.analysis_stage`
  (IATools), :mod:`~solarray.pipeline.forecast_stage` (FPNet) — the three stages, each a function
  over a batch so the Serve deployments can batch requests;
* :mod:`~solarray.pipeline.response` (JSON body), :mod:`~solarray.pipeline.map_view` (the map's
  data; drawn by :mod:`solarray.viz.forecast_map`) and
  :mod:`~solarray.pipeline.cycle` (:func:`~solarray.pipeline.cycle.run_cycle`, timings per stage);
* :mod:`~solarray.pipeline.batch` — batch forecasting: the cycle over every sample of a shard
  directory (``solarray cycle``; the demo's last stage).
"""
