"""IATools classifier benchmark: Hale and McIntosh-Z dual CNNs (``ar_classifier``, trained by the
generic Ray Train loop in local mode) on synthetic AR classes.

Training/test split by synthetic seed (different suns). Prints macro and per-class F1 on the test
suns, with the majority-class baseline measured in the same run.

    PYTHONPATH=. python benchmarks/iatools_classifier.py [--seeds 10] [--epochs 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from solarray.analysis.crops import samples_from_directory
from solarray.core.ray_connect import connect
from solarray.data.synthetic import SynthConfig, generate
from solarray.metrics.classification import f1_report
from solarray.train.fit_classifier import ClassifierTrainConfig, fit_classifier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--test-seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--hours", type=float, default=48)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.seeds):
            out = f"{tmp}/s{seed}"
            generate(SynthConfig(start="2024-01-01", hours=a.hours, cadence_minutes=720,
                                 size=a.size, seed=100 + seed, channels=("hmi_m",),
                                 preview=False), out)
            s = samples_from_directory(out)
            s["seed"] = np.full(len(s["x"]), seed)
            parts.append(s)
    t_data = time.perf_counter() - t0
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("x", "hale", "mcintosh", "lon", "seed")}
    test = cat["seed"] >= a.seeds - a.test_seeds
    print(f"{len(cat['x'])} AR samples ({(~test).sum()} train / {test.sum()} test suns split), "
          f"{(np.abs(cat['lon']) <= 30).mean():.0%} within ±30°; data {t_data:.0f} s")
    connect(num_cpus=2)
    runs = tempfile.TemporaryDirectory()
    for task in ("hale", "mcintosh"):
        y = cat[task]
        t1 = time.perf_counter()
        dual = fit_classifier(cat["x"][~test], y[~test], cat["lon"][~test], ClassifierTrainConfig(
            task=task, epochs=a.epochs, storage_path=runs.name, run_name=task,
            torch_threads=a.threads), log=lambda *_: None).model
        cfg = dual.config
        pred = dual.predict_proba(cat["x"][test], cat["lon"][test]).argmax(1)
        rep = f1_report(y[test], pred, cfg.classes)
        major = np.bincount(y[~test], minlength=len(cfg.classes)).argmax()
        base = f1_report(y[test], np.full(test.sum(), major), cfg.classes)
        counts = np.bincount(y, minlength=len(cfg.classes))
        print(f"\n{task}: train {time.perf_counter() - t1:.0f} s, class counts "
              f"{dict(zip(cfg.classes, counts.tolist(), strict=True))}")
        print(f"  dual CNN  macro F1 {rep['macro_f1']:.3f}  weighted F1 {rep['weighted_f1']:.3f}")
        print(f"  majority  macro F1 {base['macro_f1']:.3f}  weighted F1 {base['weighted_f1']:.3f}"
              f"  (ratio dual/majority macro {rep['macro_f1'] / max(base['macro_f1'], 1e-9):.2f})")
        print("  per class " + " ".join(f"{c}:{v:.2f}" for c, v in rep["per_class"].items()))
    runs.cleanup()


if __name__ == "__main__":
    main()
