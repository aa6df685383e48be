"""Ray Serve application of the forecaster (``serve.app:app``); the code lives in ``solarray.serve``."""
