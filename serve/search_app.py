"""The reverse image search's Ray Serve application, for readers of the checkout:
``serve.search_app:app`` (deployments import ``solarray.serve.search_entrypoint:app``,
``serve/search.yaml``)."""

from solarray.serve.search_entrypoint import app

__all__ = ["app"]
