"""Live operations: forecast each new observation as it lands, score each past forecast once the
flares are known.

* :mod:`~solarray.live.store` — the forecast store (Parquet, partitioned by day, one atomic file
  per forecast and per outcome);
* :mod:`~solarray.live.discover` — which co-temporal file sets in a directory are complete;
* :mod:`~solarray.live.watcher` — the loop: new sets → the service's cycle → the store; outcomes
  and running scores (:mod:`~solarray.live.outcomes`, :mod:`~solarray.live.scores`);
* :mod:`~solarray.live.actor` — the watcher as a named Ray actor;
* :mod:`~solarray.live.replay` — a synthetic Sun's files delivered as if live;
* :mod:`~solarray.live.ccmc` — export in the CCMC Flare Scoreboard's fields.
"""
