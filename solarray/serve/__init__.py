"""The Solar Activity AI Forecaster as a Ray Serve application (Ray Serve and HTTP only).

* :mod:`solarray.serve.app` — :func:`~solarray.serve.app.build_app`: the deployments behind the
  ingress, with per-deployment options;
* :mod:`solarray.serve.entrypoint` — ``app``, the import path of ``serve/config.yaml`` and the
  KubeRay RayService (``solarray.serve.entrypoint:app``; ``serve/app.py`` at the repository root
  names the same app);
* :mod:`solarray.serve.deployments` — ``SPNet``, ``IATools``, ``FPNet``: one per stage of the
  perception → analysis → forecast cycle (:mod:`solarray.pipeline`, which holds the science,
  inputs, model loading and flare history);
* :mod:`solarray.serve.ingress` — the FastAPI ingress ``Forecaster``;
* :mod:`solarray.serve.http` — bounded body reading and multipart uploads (python-multipart);
* :mod:`solarray.serve.errors` — refused requests and their HTTP statuses (the pipeline's
  :class:`~solarray.pipeline.inputs.InputError` kinds → 413/415/422/403/404);
* :mod:`solarray.serve.page` — the HTML home page.

Checkpoints: each deployment loads the paths given in its ``user_config`` (``serve/config.yaml``
names a placeholder for each role the operator must replace). A configured checkpoint that cannot
be read stops the deployment at start-up with its path (``fail_replica_on_load_error``, default
true) — never an untrained substitute. When none is configured it looks in
:func:`solarray.core.checkpoints.default_checkpoint_dir` (where ``solarray demo`` leaves its
checkpoints, file names in :data:`solarray.core.checkpoints.ROLE_FILES`), and when that has none
it builds *tiny untrained* models: ``/v1/health`` then answers 503 ``degraded`` with the reasons
and every response carries them as warnings, unless ``allow_untrained: true``.
"""
