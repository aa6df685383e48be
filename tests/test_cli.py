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
