"""The speed regression check to run before submitting speed-sensitive changes.

    python benchmarks/speed_check.py --quick          # ≈ 8 min on 2 CPUs
    python benchmarks/speed_check.py --quick --only cycle,tune

Runs the speed benchmarks at small sizes, each in its own process (its own Ray instance, its JSON
to a scratch directory), and compares each measurement with the target BENCHMARKS.md states for
it; the table goes to ``--out`` as a record too. Every ratio inside those scripts is measured against a floor timed in the same run, with
interleaved arms; this script only reads their JSON. Exit status 1 when a target is missed (a
regression, or a target not met yet: the table says which), 0 otherwise. Not a timed unit test:
numbers on a loaded machine say little, so run it on a quiet one and compare with BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solarray.benchmarks.script import Bench

BENCH = Bench("speed_check", "benchmarks/speed_check.py", __doc__)
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Check:
    """One measurement read from a benchmark's JSON ``results`` and its target (≤ ``limit``)."""

    label: str
    read: Callable[[dict], float]
    limit: float
    unit: str


@dataclass(frozen=True)
class Script:
    name: str
    argv: tuple[str, ...]
    checks: tuple[Check, ...]


SCRIPTS = (
    Script("cycle", ("benchmarks/cycle.py", "--repeats", "3", "--arms", "default"), (
        Check("forecast cycle at 512², p50", lambda r: r["stages"]["default"]["cycle"]["median"],
              1.0, "s"),
        Check("analysis stage at 512², p50",
              lambda r: r["stages"]["default"]["analysis"]["median"], 0.2, "s"))),
    Script("serve_fullres", ("benchmarks/serve_fullres.py", "--quick"), (
        Check("three 4096² RICE files → forecast via `solarray serve`, p50",
              lambda r: r["serve_p50_s"], 1.2, "s"),
        Check("same via `solarray watch`, p50", lambda r: r["watch_p50_s"], 1.2, "s"))),
    Script("train", ("benchmarks/train.py", "--part", "throughput", "--presets", "tiny",
                     "--steps", "16", "--repeats", "1", "--workers", "1"), (
        Check("Ray Train 1 worker / single-process floor, wall per sample (tiny)",
              lambda r: r["presets"]["tiny"]["ratios"]["ray1"]["step_wall"]["median"], 1.2, "×"),)),
    Script("tune", ("benchmarks/tune.py", "--samples", "4", "--steps", "24", "--repeats", "1",
                    "--max-concurrent", "2"), (
        Check("Tune trial launch → first step, trials after the first",
              lambda r: r["startup_s"]["later_trials"]["median"], 5.0, "s"),)),
    Script("startup", ("benchmarks/startup.py", "--repeats", "1"), (
        Check("`solarray pretrain --workers 1` command → first step (running cluster, "
              "warm trainer)", lambda r: r["warm_1w"]["startup_s"]["median"], 5.0, "s"),)),
)


def run_script(script: Script, out_dir: Path) -> tuple[dict | None, str]:
    """Run one benchmark; → (its JSON ``results`` or None, the tail of its output on failure)."""
    out = out_dir / f"{script.name}.json"
    cmd = [sys.executable, *script.argv, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0 or not out.exists():
        return None, (done.stdout[-1500:] + done.stderr[-1500:])
    return json.loads(out.read_text())["results"], ""


FLAGS = {"--quick": (False, "the small sizes listed above (the only mode: kept for the README's "
                             "command line)"),
         "--only": ("", "comma-separated subset of: " + ", ".join(s.name for s in SCRIPTS))}


def main(argv: list[str] | None = None) -> int:
    args = BENCH.parse(argv, FLAGS, out="/tmp/speed_check.json")
    only = {s for s in args.only.split(",") if s}
    unknown = only - {s.name for s in SCRIPTS}
    if unknown:
        raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; known: "
                         + ", ".join(s.name for s in SCRIPTS))
    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="speed_check") as tmp:
        for script in SCRIPTS:
            if only and script.name not in only:
                continue
            t0 = time.perf_counter()
            print(f"running {' '.join(script.argv)} …", flush=True)
            results, tail = run_script(script, Path(tmp))
            if results is None:
                print(f"{script.name} failed:\n{tail}", flush=True)
                rows.append((script.name, "failed", "", "FAILED"))
                failed = True
                continue
            for check in script.checks:
                value = float(check.read(results))
                ok = value <= check.limit
                failed |= not ok
                rows.append((check.label, f"{value:.3g} {check.unit}",
                             f"≤ {check.limit:g} {check.unit}", "ok" if ok else "MISSED"))
            print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"\n## Speed check (load average {os.getloadavg()[0]:.1f})")
    print("| measurement | now | target | |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    BENCH.finish({"only": sorted(only)},
                 {"rows": [dict(zip(("measurement", "now", "target", "status"), r, strict=True))
                           for r in rows], "load_average": os.getloadavg()[0]})
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
