"""The Serve import path of the forecaster: ``solarray.serve.entrypoint:app``.

``serve/config.yaml``, ``k8s/rayservice-forecaster.yaml`` and ``serve build/deploy`` name this
module, which lives inside the package so it imports from an installed solarray (no checkout on
the Python path). Importing it binds the deployments (models load later, in each replica's
``reconfigure``); every setting comes from the Serve config's per-deployment ``user_config``.
"""

from solarray.serve.app import build_app

app = build_app()
