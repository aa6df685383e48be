"""The ``solarray`` entry point: every command listed, only the chosen one imported."""

from __future__ import annotations

import importlib
import subprocess
import sys

from solarray.cli import build_parser, command_specs, main


def test_help_lists_every_command_without_importing_the_library():
    code = ("import sys; from solarray.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'ray', 'sunpy.map', 'solarray.pipeline') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    for name in command_specs():
        assert name in out.stdout


def test_specs_match_the_modules_they_come_from():
    specs = command_specs()
    assert {"demo", "ingest", "pretrain", "serve", "verify", "train-fpnet"} <= set(specs)
    for spec in specs.values():
        module = importlib.import_module(spec.module)
        assert (module.NAME, module.HELP) == (spec.name, spec.help)


def test_chosen_command_parses_and_bad_values_exit_2(tmp_path, capsys):
    args = build_parser(only=["verify"]).parse_args(["verify", "--forecasts", "f.csv"])
    assert args.command == "verify" and args.forecasts == "f.csv"
    bad = tmp_path / "f.csv"
    bad.write_text("observed,probability\n1,2.0\n")
    assert main(["verify", "--forecasts", str(bad)]) == 2
    assert "solarray verify: error" in capsys.readouterr().err


def _run_raising(monkeypatch, err):
    import solarray.commands.verify as verify_cmd

    def run(args):
        raise err
    monkeypatch.setattr(verify_cmd, "run", run)
    return main(["verify", "--forecasts", "f.csv"])


def test_full_disk_denied_and_missing_paths_are_one_line_exit_2(monkeypatch, capsys):
    import errno

    monkeypatch.delenv("SOLARRAY_DEBUG", raising=False)
    in_task = RuntimeError("ray task error")  # a Ray task's error names its cause
    in_task.cause = OSError(errno.ENOSPC, "No space left on device", "/tmp/shard.parquet")
    in_worker = RuntimeError("training failed")  # Ray Train: the worker group's failures
    in_worker.worker_failures = {0: OSError(errno.ENOSPC, "No space left", "/runs/ckpt/model.pt")}
    for err, words in (
            (OSError(errno.ENOSPC, "No space left on device", "/data/out/model.pt"),
             ("/data/out/model.pt", "no space left", "--out")),
            (PermissionError(errno.EACCES, "Permission denied", "/root/x.csv"),
             ("/root/x.csv", "permission denied")),
            (FileNotFoundError(errno.ENOENT, "No such file or directory", "/nope/shards"),
             ("/nope/shards", "no such file")),
            (in_task, ("/tmp/shard.parquet", "no space left")),
            (in_worker, ("/runs/ckpt/model.pt", "no space left"))):
        assert _run_raising(monkeypatch, err) == 2, err
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("solarray verify: error: "), lines
        assert all(w in lines[0] for w in words), lines[0]


def test_bugs_keep_their_traceback(monkeypatch, capsys):
    import pytest

    from solarray.core.errors import UsageError

    monkeypatch.delenv("SOLARRAY_DEBUG", raising=False)
    with pytest.raises(KeyError):
        _run_raising(monkeypatch, KeyError("a bug"))
    # a bug raised while handling a missing file is still a bug
    try:
        try:
            raise FileNotFoundError(2, "No such file", "x")
        except FileNotFoundError:
            raise AttributeError("'NoneType' object has no attribute 'names'")  # noqa: B904
    except AttributeError as err:
        bug = err
    with pytest.raises(AttributeError):
        _run_raising(monkeypatch, bug)
    monkeypatch.setenv("SOLARRAY_DEBUG", "1")  # the traceback behind a one-line error
    with pytest.raises(UsageError):
        _run_raising(monkeypatch, UsageError("--data: bad"))
    capsys.readouterr()
