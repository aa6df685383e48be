"""SPNet evidence on the synthetic Sun (ground-truth masks): single- vs multi-modal models, the
multi-modal model with each modality missing, and the human-in-the-loop relabelling cycle, all
scored against a threshold baseline measured in the same run.

    python -m solarray.cli synth --out S --hours 2880 --cadence 8h --size 64 --seed 1 \
        --channels hmi_m,aia193,aia211,aia304 --no-preview
    python -m solarray.cli ingest --input S --out D --size 64 --channels hmi_m,aia193,aia211,aia304
    python benchmarks/spnet_relabel.py --data D --work W [--steps 150] [--map docs/spnet_situational_map.png]
        [--out docs/results/spnet_relabel.json]

Splits: solarray.data.dataset.split_by_time defaults (test = January, val = March, 24 h gaps).
Relabelling cycle: V1 = truth with small features (< --min-area px) dropped with probability
--drop-fraction (an incomplete human label set); SV1 trained on V1 predicts the training images;
a simulated expert accepts the predicted features that V1 lacks and that overlap a true feature
(corrections file of PNG masks, merged by `review` into V2); SV2 is trained on V2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from solarray.benchmarks.script import Bench
from solarray.core.features import FEATURE_KINDS as FEATURES
from solarray.data import labels as lab
from solarray.metrics import segmentation as seg
from solarray.metrics.segmentation import PRIMARY
from solarray.models import load_model
from solarray.train import relabel
from solarray.train.config import TrainConfig
from solarray.train.loop import fit

BENCH = Bench("spnet_relabel", "benchmarks/spnet_relabel.py", __doc__)
FLAGS = {"--data": {"required": True}, "--work": {"required": True}, "--steps": 800,
         "--batch-size": 8, "--lr": 3e-3, "--dice": (0.5, "soft-Dice weight (0 = BCE only)"),
         "--min-area": 6, "--drop-fraction": 0.7,
         "--map": (None, "write a situational-map PNG of a test image"),
         "--only": {"default": "all", "choices": ("all", "modal", "cycle")}}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS)
    BENCH.start(torch_threads=None, num_cpus=2, object_store_memory=512 * 1024**2)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    test = lab.load_samples(args.data, "test", columns=("sample_id", "image", "present", "masks",
                                                        "meta"))
    train = lab.load_samples(args.data, "train")
    channels = test["channels"]
    print(f"data {args.data}: channels {','.join(channels)}; train {len(train['sample_id'])}, "
          f"test {len(test['sample_id'])} images", flush=True)
    results: dict = {"rows": [], "cycle": {}}
    rows = []

    def score(name: str, pred: np.ndarray, training: str, features=FEATURES) -> dict:
        summ = seg.summarize(seg.segmentation_scores(pred, test["masks"]))
        for f in features:
            rows.append(seg.TableRow(f, name, training, f"test ({len(test['sample_id'])})",
                                     summ[f]))
            results["rows"].append({"feature": f, "model": name, "training": training,
                                    **summ[f].__dict__})
        print(f"  {name}: " + ", ".join(f"{f} IoU {summ[f].iou_mean:.1f}±{summ[f].iou_std:.1f}"
                                        for f in features), flush=True)
        return summ

    t0 = time.perf_counter()
    base = seg.ThresholdBaseline().fit(train["image"], train["masks"], channels)
    score("threshold baseline", base.predict(test["image"], channels, test["present"]),
          "train: " + ", ".join(f"{f}:{PRIMARY[f]}" for f in FEATURES))
    print(f"baseline fitted in {time.perf_counter() - t0:.1f} s", flush=True)

    def train_model(run: str, store, version: str, model_channels=None, class_weights=None):
        ds = lab.training_dataset(store, version, args.data, "train").materialize()
        mc: dict = {"preset": "tiny", "image_size": test["image"].shape[-1]}
        if model_channels:
            mc["channels"] = list(model_channels)
        oc: dict = {"dice_weight": args.dice}
        if class_weights:
            oc["class_weights"] = class_weights
        cfg = TrainConfig(model="spnet", model_config=mc, objective="spnet", objective_config=oc,
                          channels=tuple(channels), steps=args.steps, batch_size=args.batch_size,
                          lr=args.lr, warmup_steps=10, weight_decay=0.01,
                          checkpoint_every=args.steps, report_every=max(1, args.steps // 3),
                          num_workers=0, run_name=run, storage_path=str(work / "runs"),
                          torch_threads=1, shuffle_buffer=64)
        t = time.perf_counter()
        r = fit(cfg, ds, log=lambda s: None)
        print(f"trained {run} ({'+'.join(model_channels or channels)}) on {version}: "
              f"{args.steps} steps in {time.perf_counter() - t:.0f} s, final loss "
              f"{r.metrics.get('loss', float('nan')):.4f}", flush=True)
        return load_model(r.checkpoint)

    def predict(model, drop=()):
        return relabel.predict_masks(model, test["image"], test["present"], channels, drop=drop)

    truth_store = lab.LabelStore(work / "labels_truth")
    v_truth = truth_store.latest() or lab.init_from_data(truth_store, args.data, "train")

    if args.only in ("all", "modal"):
        mm = train_model("mv_truth", truth_store, v_truth)
        score("MV (multi-modal)", predict(mm), "+".join(channels))
        for ch in channels:
            score(f"MV without {ch}", predict(mm, drop=[ch]), "+".join(channels))
        for f in FEATURES:
            ch = PRIMARY[f]
            w = [1.0 if g == f else 0.0 for g in FEATURES]
            sm = train_model(f"sv_{ch}", truth_store, v_truth, (ch,), w)
            score(f"single-modal {ch}", predict(sm), ch, features=(f,))
        if args.map:
            from solarray.viz.situational_map import situational_map

            i = int(np.argmax(test["masks"][:, 0].sum(axis=(1, 2))))
            p = predict(mm)[i]
            situational_map(test["image"][i], channels, p, args.map, meta=test["meta"][i],
                            present=test["present"][i], truth=test["masks"][i],
                            title=f"SPNet MV (tiny, 64 px): {test['sample_id'][i]} "
                                  f"(solid: model, dashed: truth)", dpi=130)
            print(f"situational map: {args.map}", flush=True)

    if args.only in ("all", "cycle"):
        store = lab.LabelStore(work / "labels_cycle")
        v1 = store.latest() or lab.init_from_data(store, args.data, "train",
                                                  min_area=args.min_area,
                                                  drop_fraction=args.drop_fraction, seed=0)
        print("V1:", store.provenance(v1)["dropped_features"], "features dropped", flush=True)
        sv1 = train_model("sv1", store, v1)
        s1 = score("SV1 (labels V1)", predict(sv1), f"{'+'.join(channels)} V1")
        ckpt1 = next((work / "runs" / "sv1").glob("checkpoint_*"))
        p1 = relabel.predict(store, ckpt1, args.data, "train", parent=v1)
        # Simulated expert: accept predicted features V1 lacks that overlap a true feature.
        labels_v1, pred_v = store.read(v1), store.read(p1)
        truth_by_id = dict(zip(train["sample_id"], train["masks"], strict=True))
        corr_dir = work / "corrections"
        corr_dir.mkdir(exist_ok=True)
        samples, accepted, rejected = {}, dict.fromkeys(FEATURES, 0), dict.fromkeys(FEATURES, 0)
        idx_pred = pred_v.index()
        for sid, m1 in zip(labels_v1.sample_ids, labels_v1.masks, strict=True):
            mp, mt = pred_v.masks[idx_pred[sid]], truth_by_id[sid]
            entry = {}
            for k, f in enumerate(FEATURES):
                comp, n = lab.components(mp[k])
                add = np.zeros_like(mp[k])
                for c in range(1, n + 1):
                    region = comp == c
                    if (m1[k][region] == 1).any():
                        continue  # already labelled
                    if (mt[k][region] == 1).any():
                        add[region] = 1
                        accepted[f] += 1
                    else:
                        rejected[f] += 1
                if add.any():
                    name = f"{sid.replace(':', '')}_{f}.png"
                    lab.write_png_mask(add, corr_dir / name)
                    entry[f] = {"add_mask": name}
            if entry:
                samples[sid] = entry
        corr_file = corr_dir / "corrections.json"
        corr_file.write_text(json.dumps({"format": "solarray.corrections/1",
                                         "reviewer": "simulated expert (truth overlap)",
                                         "samples": samples}, indent=1))
        v2 = lab.review(store, corr_file, base=v1)
        d12 = lab.diff(store, v1, v2)
        print(d12.text(), flush=True)
        print(f"expert accepted {accepted}, rejected {rejected} model features", flush=True)
        sv2 = train_model("sv2", store, v2)
        s2 = score("SV2 (labels V2)", predict(sv2), f"{'+'.join(channels)} V2")
        results["cycle"] = {"v1": v1, "prediction": p1, "v2": v2, "diff_v1_v2": d12.to_dict(),
                            "accepted": accepted, "rejected": rejected,
                            "dropped_in_v1": store.provenance(v1)["dropped_features"],
                            "iou_sv1": {f: s1[f].iou_mean for f in FEATURES},
                            "iou_sv2": {f: s2[f].iou_mean for f in FEATURES}}
        print("IoU change SV1 → SV2: " + ", ".join(
            f"{f} {s2[f].iou_mean - s1[f].iou_mean:+.2f}" for f in FEATURES), flush=True)

    rows.sort(key=lambda r: FEATURES.index(r.feature))
    table = seg.format_table(rows)
    print(table)
    base_iou = {r["feature"]: r["iou_mean"] for r in results["rows"]
                if r["model"] == "threshold baseline"}
    print("IoU ratio vs threshold baseline (same run):")
    for r in results["rows"]:
        if r["model"] != "threshold baseline" and base_iou.get(r["feature"]):
            print(f"  {r['feature']} {r['model']}: {r['iou_mean'] / base_iou[r['feature']]:.2f}x")
    results["table"] = table
    config = {k: v for k, v in vars(args).items() if k != "out"}
    BENCH.finish(config, results, [0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
