"""Translation on the benchmark Sun: Pix2Pix HMI → AIA vs baselines, channel selection, label
efficiency with a pretrained backbone (Park 2019; Shen 2025).

    python benchmarks/translation.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 300]
        [--image-size 64] [--arms hmi_to_aia,selection,label_efficiency] [--inputs-max 2]
        [--out docs/results/translation.json]

Builds the benchmark Sun when missing, runs every arm of :mod:`solarray.benchmarks.translation`
and prints per-passband CC / RE / PPE10 (mean ± std over seeds), the selection ranking and the
label-efficiency curves; the record (command line, config, per-seed scores) goes to ``--out``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from solarray.benchmarks import translation
from solarray.benchmarks.record import comparison_lines, markdown_table
from solarray.benchmarks.script import Bench
from solarray.benchmarks.translation import AIA, CHANNELS, TranslationBenchmarkConfig, run
from solarray.metrics.protocol import format_pm
from solarray.tune.channel_selection import SelectionSettings, run_selection
from solarray.tune.experiment import TuneRun

BENCH = Bench("translation", "benchmarks/translation.py", __doc__)
FLAGS = {"--steps": 300, "--selection-steps": 300, "--batch-size": 16, "--lr": 1e-3,
         "--image-size": 64, "--inputs-max": 2, "--fractions": "0.01,0.1,1",
         "--pretrained": ("", "MAE/SolarCHIP checkpoint (default: the pretraining benchmark's "
                              "MAE of the same seed)"),
         "--arms": "hmi_to_aia,selection,label_efficiency"}


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
        for line in comparison_lines(res["hmi_to_aia"]["comparisons"]):
            print(line)
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
    args = BENCH.sun(argv, FLAGS, runs="translation")
    cfg = TranslationBenchmarkConfig(
        **BENCH.common(args), image_size=args.image_size,
        steps=args.steps, selection_steps=args.selection_steps, batch_size=args.batch_size,
        lr=args.lr, selection_inputs_max=args.inputs_max,
        fractions=tuple(float(f) for f in args.fractions.split(",")),
        pretrained=args.pretrained, arms=tuple(args.arms.split(",")))
    res = run(cfg, select=selection)
    _print(res)
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
