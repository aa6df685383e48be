"""Ray Serve application of the forecaster: ``serve/config.yaml`` and ``serve.app:app`` (the same
app as ``solarray.serve.entrypoint:app``); the code lives in ``solarray.serve``."""
