"""The forecaster's Ray Serve application, for readers of the checkout: ``serve.app:app``.

Deployments import ``solarray.serve.entrypoint:app`` (``serve/config.yaml``, KubeRay), which
works from an installed package; this module names the same application object.
"""

from solarray.serve.entrypoint import app

__all__ = ["app"]
