"""IATools entity benchmark: AR entities from the synthetic truth masks vs the synthetic AR table.

For several DBSCAN radii (and a baseline of plain 8-connected components, eps = 1 px): entity
detection precision/recall/F1 (one-to-one matching of entity centres to true AR centres within
8°), the mean centre error, the area ratio and the pixel-level adjusted Rand index against a
reference labelling (each AR mask pixel given to the nearest true AR centre), per clustering
method (``RegionConfig.ar_method``), with the seconds each spent clustering and whether they gave
the same labels. The script is ``benchmarks/iatools_entities.py``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from solarray.analysis import coords as C
from solarray.analysis import observe as O
from solarray.analysis import regions as R
from solarray.data.synthetic import SynthConfig, generate

EPS_LIST = ["1px", "12 Mm", "24 Mm", "36 Mm", "48 Mm", "60 Mm", "80 Mm"]


def score(table, truth, max_deg=8.0):
    """Entities (``kind == "AR"`` rows) matched one-to-one to true ARs within ``max_deg``:
    true positives, counts, mean centre error (°) and median area ratio detected/true."""
    ar = table[table["kind"] == "AR"]
    t = truth[truth["area_msh"] > 0]
    if len(ar) == 0 or len(t) == 0:
        return dict(tp=0, n_pred=len(ar), n_true=len(t), err=np.nan, area=np.nan, ari=np.nan)
    d = C.great_circle_deg(ar["hgs_lon"].to_numpy()[:, None], ar["hgs_lat"].to_numpy()[:, None],
                           t["hgs_lon"].to_numpy()[None], t["hgs_lat"].to_numpy()[None])
    i, j = linear_sum_assignment(np.where(d <= max_deg, d, 1e6))
    ok = d[i, j] <= max_deg
    i, j = i[ok], j[ok]
    area = (ar["area_msh"].to_numpy()[i] / t["area_msh"].to_numpy()[j])
    return dict(tp=len(i), n_pred=len(ar), n_true=len(t), err=float(d[i, j].mean()) if len(i) else np.nan,
                area=float(np.median(area)) if len(i) else np.nan)


def run(seeds: int, size: int, hours: float, methods: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Per (method, eps): the scores pooled over ``seeds`` synthetic Suns; and the time steps
    per Sun."""
    eps_list = EPS_LIST
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            out = f"{tmp}/s{seed}"
            generate(SynthConfig(hours=hours, cadence_minutes=360, size=size, seed=seed,
                                 channels=("hmi_m",), preview=False), out)
            truth_all = pd.read_parquet(f"{out}/tables/ar.parquet")
            truth_all["t"] = pd.to_datetime(truth_all["t_obs"]).dt.tz_localize(None)
            for st in O.list_steps(out).itertuples():
                masks, grid = O.read_masks(st.masks)
                g = C.map_geometry(grid)
                truth = truth_all[truth_all["t"] == st.time]
                arm = (masks[0] > 0) & g.on_disk
                # Reference labelling: each AR pixel → nearest true AR centre.
                dd = C.great_circle_deg(g.lon[arm][:, None], g.lat[arm][:, None],
                                        truth["hgs_lon"].to_numpy()[None],
                                        truth["hgs_lat"].to_numpy()[None])
                ref = np.argmin(dd, axis=1) if len(truth) else np.zeros(arm.sum(), int)
                for eps in eps_list:
                    labels = {}
                    for method in methods:
                        if eps == "1px":
                            cfg = R.RegionConfig(ar_eps=f"{g.km_per_pixel * 1.01} km",
                                                 ar_min_density="0 Mm2", ar_min_area_msh=20,
                                                 ar_method=method)
                        else:
                            cfg = R.RegionConfig(ar_eps=eps, ar_method=method)
                        t = time.perf_counter()
                        res = R.find_entities({"AR": masks[0]}, grid, config=cfg, geometry=g)
                        dt = time.perf_counter() - t
                        labels[method] = res.labels["AR"]
                        s = score(res.table, truth)
                        pred = res.labels["AR"][arm]
                        rows.append(dict(method=method, seed=seed, eps=eps, tp=s["tp"],
                                         n_pred=s["n_pred"], n_true=s["n_true"], err=s["err"],
                                         area=s["area"], seconds=dt,
                                         same=np.array_equal(labels[method],
                                                             labels[methods[0]]),
                                         ari=adjusted_rand_score(ref, pred) if arm.any()
                                         else np.nan))
    df = pd.DataFrame(rows)
    agg = df.groupby(["method", "eps"], sort=False).agg(
        tp=("tp", "sum"), n_pred=("n_pred", "sum"), n_true=("n_true", "sum"),
        err=("err", "mean"), area=("area", "median"), ari=("ari", "mean"),
        seconds=("seconds", "sum"), same=("same", "all"))
    agg["precision"] = agg["tp"] / agg["n_pred"]
    agg["recall"] = agg["tp"] / agg["n_true"]
    agg["f1"] = 2 * agg["precision"] * agg["recall"] / (agg["precision"] + agg["recall"])
    for method in methods:
        base = agg.loc[(method, "1px")]
        agg.loc[method, "f1_vs_cc"] = (agg.loc[method, "f1"] / base["f1"]).to_numpy()
        agg.loc[method, "ari_vs_cc"] = (agg.loc[method, "ari"] / base["ari"]).to_numpy()
    n_steps = len(df) // len(eps_list) // seeds // len(methods)
    return agg, n_steps


__all__ = ["EPS_LIST", "run", "score"]
