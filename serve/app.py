"""Import path of the forecaster for ``serve build/deploy`` (``serve.app:app``) and KubeRay.

Thin on purpose: importing it binds the deployments (no models, no torch); every setting comes from
the Serve config's per-deployment ``user_config`` (see ``serve/config.yaml``).
"""

from solarray.serve.app import build_app

app = build_app()
