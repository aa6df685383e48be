"""Hale and McIntosh-Z classifiers on the benchmark Sun under the seed protocol.

AR magnetogram crops of every benchmark Sun (IATools entities from the truth masks matched to
the true regions, :func:`solarray.analysis.crops.samples_from_directory`); training on the Suns
of the training months, scores on the Suns of the test month (never seen in training). For each
training seed: the dual CNN (``ar_classifier`` through the generic loop: one network for
|longitude| ≤ 30°, one beyond), the single CNN (the same network, one for every longitude:
``lon_split_deg`` 180°, SA-AI 2025's comparison: dual F1 0.61 vs single 0.54 for Hale) and the
majority class of the training crops; macro and weighted F1
(:func:`solarray.metrics.classification.f1_report`), overall and per longitude zone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solarray.analysis.crops import samples_from_directory
from solarray.benchmarks.runs import ProtocolConfig
from solarray.data.dataset import assign_splits
from solarray.data.synthetic import forecast_set
from solarray.metrics.classification import f1_report
from solarray.metrics.protocol import compare
from solarray.train.fit_classifier import ClassifierTrainConfig, fit_classifier

TASKS = ("hale", "mcintosh")
#: The scores compared with the majority-class baseline.
METRICS = ("macro_f1", "weighted_f1")


@dataclass
class ClassifierBenchmarkConfig(ProtocolConfig):
    runs_dir: str = ".cache/benchmark_runs/classifier"
    epochs: int = 12
    every: int = 3  # time steps: every 3rd (6 h at the benchmark's 2-h cadence)
    tasks: tuple[str, ...] = TASKS
    single: bool = True  # also the one-network CNN (SA-AI 2025's single- vs dual-CNN comparison)

    def __post_init__(self) -> None:
        bad = set(self.tasks) - set(TASKS)
        if bad:
            raise ValueError(f"tasks: expected hale and/or mcintosh, got {sorted(bad)}")
        self.seeds, self.tasks = tuple(self.seeds), tuple(self.tasks)


def crops(root: str | Path, every: int, log: Callable[[str], None] = print) -> dict:
    """Crops of every run of the benchmark Sun with their split (by the run's time)."""
    parts = []
    for run_dir in forecast_set.run_dirs(root):
        t = time.perf_counter()
        s = samples_from_directory(run_dir, every=every)
        times = np.array(s["time"], dtype="datetime64[s]")
        s["split"] = assign_splits(times) if len(times) else np.array([], dtype=object)
        s["run"] = np.full(len(s["x"]), run_dir.name)
        parts.append(s)
        log(f"[classifier-bench] {run_dir.name}: {len(s['x'])} crops ({time.perf_counter() - t:.0f} s)")
    keys = ("x", "hale", "mcintosh", "lon", "split", "run")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def run(cfg: ClassifierBenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Per task and seed: the CNN's and the majority class's macro/weighted F1 on the test Suns."""
    data = crops(cfg.root, cfg.every, log)
    train, test = data["split"] == "train", data["split"] == "test"
    info = {"train_crops": int(train.sum()), "test_crops": int(test.sum()),
            "train_suns": int(len(set(data["run"][train]))),
            "test_suns": int(len(set(data["run"][test])))}
    per_seed: dict[str, dict[str, list]] = {}
    for task in cfg.tasks:
        y = data[task]
        per_seed[task] = {"cnn": [], "majority": []} | ({"cnn_single": []} if cfg.single else {})
        inner = np.abs(data["lon"][test].astype(float)) <= 30.0
        for seed in cfg.seeds:
            t = time.perf_counter()
            arms = {"cnn": ({}, f"{task}_s{seed}")}
            if cfg.single:
                arms["cnn_single"] = ({"lon_split_deg": 180.0}, f"{task}_single_s{seed}")
            for arm, (mc, name) in arms.items():
                model = fit_classifier(
                    data["x"][train], y[train], data["lon"][train],
                    ClassifierTrainConfig(task=task, model_config=mc, epochs=cfg.epochs,
                                          seed=seed, storage_path=str(Path(cfg.runs_dir).resolve()),
                                          run_name=name), log=lambda *_: None).model
                classes = model.config.classes
                pred = model.predict_proba(data["x"][test], data["lon"][test]).argmax(1)
                rep = f1_report(y[test], pred, classes)
                rep["zones"] = {z: f1_report(y[test][m], pred[m], classes)
                                for z, m in (("inner", inner), ("outer", ~inner)) if m.any()}
                per_seed[task][arm].append(rep)
            rep = per_seed[task]["cnn"][-1]
            major = np.bincount(y[train], minlength=len(classes)).argmax()
            base = f1_report(y[test], np.full(int(test.sum()), major), classes)
            per_seed[task]["majority"].append(base)
            log(f"[classifier-bench] {task} seed {seed}: {time.perf_counter() - t:.0f} s, macro F1 "
                f"{rep['macro_f1']:.3f} (majority {base['macro_f1']:.3f}), weighted F1 "
                f"{rep['weighted_f1']:.3f} (majority {base['weighted_f1']:.3f})")
        info[f"{task}_test_counts"] = dict(zip(classes, np.bincount(
            y[test], minlength=len(classes)).tolist(), strict=True))
    return {"per_seed": per_seed, "info": info}


def comparisons(per_seed: dict[str, dict[str, list[dict]]]) -> dict[str, dict[str, dict]]:
    """Per task and F1 metric: the (dual) CNN against the majority class, paired by seed; with a
    single-CNN arm also ``dual_vs_single_<metric>`` (the dual CNN against the single one)."""
    out = {}
    for task, arms in per_seed.items():
        out[task] = {m: compare([r[m] for r in arms["cnn"]], [r[m] for r in arms["majority"]])
                     for m in METRICS}
        if arms.get("cnn_single"):
            out[task].update({f"dual_vs_single_{m}": compare(
                [r[m] for r in arms["cnn"]], [r[m] for r in arms["cnn_single"]])
                for m in METRICS})
    return out


__all__ = ["METRICS", "ClassifierBenchmarkConfig", "comparisons", "crops", "run"]
