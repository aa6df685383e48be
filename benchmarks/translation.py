"""Translation on the benchmark Sun: Pix2Pix HMI → AIA vs baselines, channel selection, label
efficiency with a pretrained backbone (seeds 002 and 000).

    python benchmarks/translation.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 300]
        [--image-size 64] [--arms hmi_to_aia,selection,label_efficiency] [--inputs-max 2]
        [--out docs/results/translation.json]

Builds the benchmark Sun when missing, runs every arm of :mod:`solarray.benchmarks.translation`
and prints per-passband CC / RE / PPE10 (mean ± std over seeds), the selection ranking and the
label-efficiency curves; the record (command line, config, per-seed scores) goes to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from solarray.benchmarks import translation
from solarray.benchmarks.script import command_line, finish, start
from solarray.benchmarks.translation import AIA, CHANNELS, TranslationBenchmarkConfig, run
from solarray.metrics.protocol import format_pm, markdown_table
from solarray.tune.channel_selection import SelectionSettings, run_selection
from solarray.tune.experiment import TuneRun


def selection(cfg, data, log) -> dict[str, Any]:
    """The selection arm: the AIA combinations as parallel Tune trials, ranked on the test month."""
    settings = SelectionSettings(
        candidates=AIA, inputs_max=cfg.selection_inputs_max,
        model_config={**cfg.model_config, "image_size": cfg.image_size},
        steps=cfg.selection_steps, batch_size=cfg.batch_size, lr=cfg.lr,
        report_every=max(1, cfg.selection_steps // 3), val_batches=2, trial_workers=1, cpus_per_worker=0.5,
        name="translate_select")
    storage = Path(cfg.runs_dir).resolve() / "select"
    run = TuneRun(name="translate_select", storage_path=str(storage),
                  max_concurrent=cfg.selection_concurrent, verbose=0,
                  resume=(storage / "translate_select").exists())
    t = time.perf_counter()
    table, _ = run_selection(settings, run, translation.dataset(data["train"]),
                             translation.dataset(data["val"]), CHANNELS, data["test"], log=log)
    log(f"[translation] selection: {len(table)} trials in {time.perf_counter() - t:.0f} s")
    cols = [c for c in table.columns if c.startswith("cc_") or c in ("rank", "inputs",
                                                                      "n_inputs")]
    return {"ranking": table[cols].to_dict(orient="records"),
            "seconds": round(time.perf_counter() - t, 1)}


def _print(res: dict) -> None:
    if "hmi_to_aia" in res:
        s = res["hmi_to_aia"]["summary"]
        print(f"\n### HMI → AIA (test month, {res['hmi_to_aia']['n_test']} frames)\n")
        rows = []
        for arm in s:
            for c in (*AIA, "average"):
                rows.append({"arm": arm, "passband": c,
                             **{k: format_pm(s[arm][f"{k}_{c}"]) for k in ("cc", "re", "ppe10")}})
        print(markdown_table(rows, ["arm", "passband", "cc", "re", "ppe10"]))
        for m, against in res["hmi_to_aia"]["comparisons"].items():
            for b, by in against.items():
                print(f"- {m} vs {b}: " + ", ".join(
                    f"{k} {'beats' if c['beats'] else 'does not beat'} "
                    f"(Δ {format_pm(c['difference'])})" for k, c in by.items()))
    if "selection" in res:
        print("\n### Channel selection (avg / min CC over the predicted AIA channels, test)\n")
        rows = [{k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.items()}
                for r in res["selection"]["ranking"]]
        print(markdown_table(rows, list(res["selection"]["ranking"][0])))
    if "label_efficiency" in res:
        le = res["label_efficiency"]
        print("\n### Label efficiency (HMI → AIA, average CC)\n")
        rows = [{"arm": k, "pairs": le["per_arm"][k]["pairs"],
                 "avg CC": format_pm(v["cc_average"]),
                 **{f"CC {c}": format_pm(v[f"cc_{c}"]) for c in AIA}}
                for k, v in le["summary"].items()]
        print(markdown_table(rows, list(rows[0])))
        for frac, c in le["controlnet_vs_pix2pix_cc"].items():
            print(f"- {frac}: controlnet_mae {'beats' if c['beats'] else 'does not beat'} "
                  f"pix2pix (Δ CC {format_pm(c['difference'])})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=".cache/benchmark_sun")
    p.add_argument("--runs-dir", default=".cache/benchmark_runs/translation")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--selection-steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--inputs-max", type=int, default=2)
    p.add_argument("--fractions", default="0.01,0.1,1")
    p.add_argument("--pretrained", default="", help="MAE/SolarCHIP checkpoint (default: the "
                   "pretraining benchmark's MAE of the same seed)")
    p.add_argument("--arms", default="hmi_to_aia,selection,label_efficiency")
    p.add_argument("--out", default="docs/results/translation.json")
    args = p.parse_args(argv)
    command = command_line("benchmarks/translation.py", argv)
    t0 = start(args.root)
    cfg = TranslationBenchmarkConfig(
        root=args.root, runs_dir=args.runs_dir,
        seeds=tuple(int(s) for s in args.seeds.split(",")), image_size=args.image_size,
        steps=args.steps, selection_steps=args.selection_steps, batch_size=args.batch_size,
        lr=args.lr, selection_inputs_max=args.inputs_max,
        fractions=tuple(float(f) for f in args.fractions.split(",")),
        pretrained=args.pretrained, arms=tuple(args.arms.split(",")))
    res = run(cfg, select=selection)
    _print(res)
    finish("translation", command, asdict(cfg), res, cfg.seeds, args.out, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
