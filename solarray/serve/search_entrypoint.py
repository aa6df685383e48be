"""The Serve import path of the reverse image search: ``solarray.serve.search_entrypoint:app``
(``serve/search.yaml``, application ``search``, route prefix ``/v1/search``)."""

from solarray.serve.search import build_search_app

app = build_search_app()
