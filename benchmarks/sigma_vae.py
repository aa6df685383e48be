"""sigma-VAE on the benchmark Sun: reconstruction, compression, samples, F30 forecasting (≥ 3 seeds).

    python benchmarks/sigma_vae.py [--root .cache/benchmark_sun] [--seeds 0,1,2] [--steps 250]
        [--series-days 110] [--out docs/results/sigma_vae.json]

Runs :mod:`solarray.benchmarks.sigma_vae` for every seed and prints mean ± std tables: per-channel
reconstruction of the test month (trained vs untrained), the compression table, samples vs real
frames against two baselines, and the F30 RMSE per horizon (VAE latents vs persistence vs
down-sampled pixels vs y(t) alone). The record goes to ``--out`` as JSON.
"""

from __future__ import annotations

from dataclasses import asdict

from solarray.benchmarks.record import markdown_table
from solarray.benchmarks.script import Bench
from solarray.benchmarks.sigma_vae import ROW_KEYS, SigmaVAEBenchmarkConfig, run, summary
from solarray.core.atomic import write_json
from solarray.metrics.protocol import format_pm

BENCH = Bench("sigma_vae", "benchmarks/sigma_vae.py", __doc__)
FLAGS = {"--series-root": ".cache/benchmark_runs/sigma_vae_series", "--steps": 250,
         "--batch-size": 8, "--bottleneck": 128, "--sigma-mode": "scalar", "--series-days": 110.0}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.sun(argv, FLAGS, runs="sigma_vae")
    cfg = SigmaVAEBenchmarkConfig(
        **BENCH.common(args), series_root=args.series_root, steps=args.steps, batch_size=args.batch_size, bottleneck=args.bottleneck,
        sigma_mode=args.sigma_mode, series_days=args.series_days)
    res = run(cfg)
    # kept if the tables below fail
    write_json(f"{args.runs_dir}/raw_results.json", res, default=str)
    summ = summary(res)
    res["summary"] = summ
    print(f"\n### Reconstruction of the test month ({res['info']})\n")
    rows = []
    for arm, by_ch in summ["reconstruction"].items():
        for ch, vals in by_ch.items():
            rows.append({"model": arm, "channel": ch,
                         **{k: format_pm(vals[k], 4 if k == "rmse" else 3) for k in ROW_KEYS}})
    print(markdown_table(rows, ["model", "channel", *ROW_KEYS]))
    c = res["compression"]
    print(f"\n### Compression\n\n{markdown_table([{k: f'{v:.4g}' for k, v in c.items()}], list(c))}")
    rows = [{"generator": arm, "channel": ch, **{k: format_pm(v[k]) for k in v}}
            for arm, by_ch in summ["samples"].items() for ch, v in by_ch.items()]
    print("\n### Samples vs real test frames\n")
    print(markdown_table(rows, ["generator", "channel", "histogram_tv", "spectrum_dlog"]))
    rows = []
    for h, v in summ["forecast"].items():
        rows.append({"horizon": h, **v["n"], **{k: format_pm(v[k]) for k in (
            "rmse_persistence", "rmse_model", "rmse_baseline", "rmse_target_only",
            "improvement")},
            "beats persistence": v["vae_vs_persistence"]["beats"],
            "beats pixels": v["vae_vs_pixels"]["beats"],
            "beats y(t) only": v["vae_vs_target_only"]["beats"]})
    print("\n### F30 forecast (test = January)\n")
    print(markdown_table(rows, list(rows[0])))
    BENCH.finish(asdict(cfg), res, cfg.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
