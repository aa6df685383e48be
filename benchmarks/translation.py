"""Translation on a nine-passband synthetic Sun: Park 2019's one model per passband (Model A vs
B, realism as fine-scale power), the multi-output model compared, Lim 2021's greedy channel
selection, and (optionally) label efficiency with a pretrained backbone.

    python benchmarks/translation.py [--root .cache/translation_sun] [--seeds 0,1,2]
        [--steps 200] [--image-size 32] [--arms per_passband,multi_output,greedy]
        [--inputs-max 3] [--torch-threads 2] [--in-process] [--out docs/results/translation_park.json]

Builds the translation Sun when missing (:data:`solarray.benchmarks.translation.TRANSLATION_SUN`),
runs the arms of :mod:`solarray.benchmarks.translation` and prints Park's table per passband (CC,
mean |RE|, signed RE, PPE10, HF ratio; mean ± std over seeds), B − A and per-passband −
multi-output with paired bootstrap intervals over test Suns, and Lim's greedy table; the record
(command line, config, per-seed scores) goes to ``--out``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from solarray.benchmarks import translation
from solarray.benchmarks.record import comparison_lines, markdown_table
from solarray.benchmarks.script import Bench
from solarray.benchmarks.translation import (
    AIA,
    CHANNELS,
    SUN_ROOT,
    TRANSLATION_SUN,
    TranslationBenchmarkConfig,
    run,
)
from solarray.data.synthetic.benchmark_sun import build_benchmark_sun
from solarray.metrics.protocol import format_pm
from solarray.translate.selection import best_per_target, format_greedy, greedy_table
from solarray.tune.channel_selection import SelectionSettings, run_greedy
from solarray.tune.experiment import TuneRun

BENCH = Bench("translation", "benchmarks/translation.py", __doc__)
FLAGS = {"--root": (SUN_ROOT, "the nine-passband translation Sun (built if missing)"),
         "--steps": 200, "--selection-steps": 200, "--batch-size": 16, "--lr": 1e-3,
         "--image-size": 32, "--inputs-max": 3, "--fractions": "0.01,0.1,1",
         "--n-boot": 1000,
         "--pretrained": ("", "label_efficiency: MAE/SolarCHIP checkpoint of the frozen encoder"),
         "--arms": "per_passband,multi_output,greedy",
         "--torch-threads": (2, "torch threads of the in-process trainings (1 on shared cores: "
                                "2 threads spinning against other load ran 20x slower)"),
         "--in-process": (False, "per_passband/multi_output: read the shards and train in this "
                                 "process without Ray (the generic loop's step over in-memory "
                                 "frames; the greedy/label-efficiency arms still use Ray)")}


def selection(cfg, data, log) -> dict[str, Any]:
    """Lim's greedy selection among the nine passbands, each round's sets as parallel Tune
    trials (one model per set predicting the passbands it does not see), ranked on the test
    month."""
    settings = SelectionSettings(
        candidates=AIA, inputs_max=cfg.selection_inputs_max,
        model_config={**cfg.model_config, "image_size": cfg.image_size},
        steps=cfg.selection_steps, batch_size=cfg.batch_size, lr=cfg.lr,
        report_every=max(1, cfg.selection_steps // 2), val_batches=2, trial_workers=1,
        cpus_per_worker=0.5, name="greedy")
    storage = Path(cfg.runs_dir).resolve() / "select"
    tune_run = TuneRun(name="greedy", storage_path=str(storage),
                       max_concurrent=cfg.selection_concurrent, verbose=0, resume=True)
    t = time.perf_counter()
    tables = run_greedy(settings, tune_run, translation.dataset(data["train"]),
                        translation.dataset(data["val"]), CHANNELS, data["test"],
                        rounds=cfg.selection_inputs_max, log=log)
    keep = lambda c: c.startswith("cc_") or c in ("rank", "inputs", "n_inputs")  # noqa: E731
    return {"path": greedy_table(tables), "best_per_target": best_per_target(tables),
            "rounds": [t_[[c for c in t_.columns if keep(c)]].to_dict(orient="records")
                       for t_ in tables],
            "text": format_greedy(tables), "seconds": round(time.perf_counter() - t, 1)}


def _park_rows(res: dict, arm_names: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for key, label in arm_names.items():
        if key not in res:
            continue
        s = res[key]["summary"]
        for arm in s:
            for c in (*AIA, "average"):
                rows.append({"setting": label, "arm": arm, "passband": c,
                             **{k: format_pm(s[arm][f"{k}_{c}"]) for k in translation.KEYS}})
            rows[-1]["re_park"] = format_pm(s[arm]["re_park_average"])
    return rows


def _interval(d: dict) -> str:
    return (f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"
            if d["lo"] is not None else "n/a")


def _print(res: dict) -> None:
    rows = _park_rows(res, {"per_passband": "one model per passband",
                            "multi_output": "one model, nine outputs"})
    if rows:
        print("\n### HMI → AIA, test month (mean ± std over seeds)\n")
        print(markdown_table(rows, ["setting", "arm", "passband", *translation.KEYS,
                                    "re_park"]))
    if "per_passband" in res:
        for line in comparison_lines(res["per_passband"]["comparisons"]):
            print(line)
        print("\nB − A per image (paired bootstrap 95 % over test Suns): " + "; ".join(
            f"{k} {_interval(v)}" for k, v in res["per_passband"]["b_minus_a"].items()))
    if "per_passband_minus_multi" in res:
        for arm, by in res["per_passband_minus_multi"].items():
            print(f"per-passband − multi-output, {arm}: " + "; ".join(
                f"{k} {_interval(v)}" for k, v in by.items()))
    if "greedy" in res:
        print("\n### Greedy channel selection (Lim 2021), CC on the test month\n")
        print(res["greedy"]["text"])
    if "label_efficiency" in res:
        le = res["label_efficiency"]
        rows = [{"arm": k, "pairs": le["per_arm"][k]["pairs"],
                 "avg CC": format_pm(v["cc_average"])} for k, v in le["summary"].items()]
        print("\n### Label efficiency (HMI → AIA, average CC)\n")
        print(markdown_table(rows, list(rows[0])))


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, runs="translation9", seeds="0,1,2")
    arms = tuple(args.arms.split(","))
    if args.in_process and set(arms) <= {"per_passband", "multi_output"}:
        torch.set_num_threads(args.torch_threads)  # no Ray: nothing waits for the cores' lock
    else:
        BENCH.start(None, torch_threads=args.torch_threads)
    build_benchmark_sun(args.root, TRANSLATION_SUN)
    BENCH.t0 = time.perf_counter()
    cfg = TranslationBenchmarkConfig(
        **BENCH.common(args), image_size=args.image_size,
        steps=args.steps, selection_steps=args.selection_steps, batch_size=args.batch_size,
        lr=args.lr, selection_inputs_max=args.inputs_max, n_boot=args.n_boot,
        fractions=tuple(float(f) for f in args.fractions.split(",")),
        pretrained=args.pretrained, arms=arms, in_process=args.in_process)
    res = run(cfg, select=selection)
    _print(res)
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
