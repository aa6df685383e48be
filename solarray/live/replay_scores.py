"""The verified forecasts of a replayed synthetic Sun with the generator's oracle beside each.

`solarray watch --replay` stores what the served chain forecast and, once the 24 h have passed,
what happened (:mod:`solarray.live.store`). For a synthetic Sun the generator also knows the
chance each forecast should have given (:mod:`solarray.data.synthetic.oracle`): the full disk's
from every region's expected ≥M flares, a detected region's from the true region it matches
(:func:`solarray.pipeline.feature_tables.truth_match`, 0 when it matches none). The oracle reads
the hidden state: it is the ceiling a forecast of the same rows is read against, never an input.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from solarray.data.synthetic.oracle import disk_oracle, expected_m_flares, synth_sun
from solarray.data.tables.table import read_table
from solarray.live.scores import verified_pairs
from solarray.live.store import ForecastStore
from solarray.pipeline.feature_tables import truth_match

PAIR_COLUMNS = ["observation_time", "observed", "probability", "oracle"]


def _naive(t) -> pd.Series:
    t = pd.to_datetime(pd.Series(t), utc=True)
    return t.dt.tz_localize(None)


def replay_pairs(store: ForecastStore, synth_dir: str | os.PathLike,
                 assign_deg: float = 5.0) -> dict[str, pd.DataFrame]:
    """``{"full_disk": df, "regions": df}`` with :data:`PAIR_COLUMNS`: every verified forecast
    of ``store`` (a replay of the generator output ``synth_dir``) and the oracle's probability
    for the same row."""
    sun, t0 = synth_sun(synth_dir)
    disk = verified_pairs(store)["full_disk"][["observation_time", "observed", "probability"]]
    times = _naive(disk["observation_time"]).reset_index(drop=True)
    disk = disk.reset_index(drop=True).assign(oracle=disk_oracle(
        pd.DataFrame({"run": "sun", "t_obs": times}), {"sun": (sun, t0)}))

    truth = read_table(os.path.join(synth_dir, "tables", "ar.parquet"), "AR truth table")
    truth_t = _naive(truth["t_obs"])
    rows = []
    joined = store.joined()
    for _, r in joined[joined["observed"].notna()].iterrows():
        seen = json.loads(r["regions_observed"] or "{}")
        regions = pd.DataFrame([g for g in json.loads(r["regions"])
                                if g.get("p_m24") is not None and str(g.get("number")) in seen],
                               columns=["number", "hgs_lon", "hgs_lat", "area_msh", "p_m24"])
        if not len(regions):
            continue
        t = _naive([r["observation_time"]]).iloc[0]
        now = truth[((truth_t - t).abs() <= pd.Timedelta(minutes=6)).to_numpy()]
        matched = truth_match(now, regions.fillna({"area_msh": 0.0}), assign_deg)
        day = (t - t0) / pd.Timedelta(days=1)
        for g, ar in zip(regions.itertuples(), matched, strict=True):
            p = 0.0 if ar < 0 else 1.0 - np.exp(-expected_m_flares(sun.region(int(ar)), day))
            rows.append({"observation_time": r["observation_time"],
                         "observed": float(seen[str(g.number)]),
                         "probability": float(g.p_m24), "oracle": float(p)})
    return {"full_disk": disk[PAIR_COLUMNS], "regions": pd.DataFrame(rows, columns=PAIR_COLUMNS)}


__all__ = ["PAIR_COLUMNS", "replay_pairs"]
