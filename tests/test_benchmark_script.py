"""The one shape of a benchmark script: a thin ``main`` over the shared parser and recorder
(:class:`solarray.benchmarks.script.Bench`), the scoring in ``solarray/benchmarks/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from solarray.benchmarks.script import Bench, add_flags, parse_seeds

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "benchmarks").glob("*.py"))


def test_the_shared_parser_has_the_common_flags_and_the_scripts_own():
    bench = Bench("fpnet", "benchmarks/fpnet.py", "FPNet on the benchmark Sun.\n\nMore.")
    p = bench.parser({"--steps": 400, "--lr": 1e-3, "--encoder": ("", "a checkpoint"),
                      "--no-ablations": False, "--workers": {"type": int, "nargs": "+",
                                                             "default": [1, 2]}},
                     sun=True, runs="fpnet", seeds="0,1,2")
    args = p.parse_args([])
    assert vars(args) == {"root": ".cache/benchmark_sun", "runs_dir": ".cache/benchmark_runs/fpnet",
                          "seeds": (0, 1, 2), "steps": 400, "lr": 1e-3, "encoder": "",
                          "no_ablations": False, "workers": [1, 2],
                          "out": "docs/results/fpnet.json"}
    args = p.parse_args(["--seeds", "3,4", "--steps", "7", "--lr", "0.5", "--no-ablations",
                         "--workers", "2"])
    assert args.seeds == (3, 4) and args.steps == 7 and args.lr == 0.5 and args.no_ablations
    assert p.description == "FPNet on the benchmark Sun."
    assert parse_seeds("5") == (5,)


def test_add_flags_types_follow_the_defaults():
    import argparse

    p = argparse.ArgumentParser()
    add_flags(p, {"--n": 3, "--x": 0.5, "--name": "a", "--none": None})
    args = p.parse_args(["--n", "4", "--x", "2", "--name", "b", "--none", "c"])
    assert (args.n, args.x, args.name, args.none) == (4, 2.0, "b", "c")


def test_finish_writes_the_protocol_record(tmp_path):
    bench = Bench("toy", "benchmarks/toy.py", None)
    out = tmp_path / "toy.json"
    args = bench.parse(["--out", str(out), "--k", "2"], {"--k": 1})
    assert args.k == 2 and bench.command == f"python benchmarks/toy.py --out {out} --k 2"
    path = bench.finish({"k": args.k}, {"score": 0.5}, [0, 1])
    record = json.loads(path.read_text())
    assert path == out and record["name"] == "toy" and record["command"] == bench.command
    assert record["config"] == {"k": 2} and record["seeds"] == [0, 1]
    assert record["results"]["score"] == 0.5 and record["results"]["seconds"] >= 0
    assert "git_commit" in record and "git_dirty" in record


def test_every_script_is_a_thin_main_over_bench():
    assert SCRIPTS
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO).as_posix()
        assert re.search(rf'^BENCH = Bench\("\w+", "{name}", __doc__\)$', text, re.M), name
        assert "ArgumentParser(" not in text and "sys.path" not in text, name
        assert "result_record" not in text and "write_result" not in text, name
        assert text.rstrip().endswith("main())"), name
