"""``solarray serve`` in the checkout: without a config it serves the demo's checkpoints, and
without those it stops at once with one line saying how to get them (no Ray started)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from solarray.cli import main
from solarray.core.checkpoints import CHECKPOINT_DIR_ENV, ROLE_FILES, default_checkpoint_dir
from solarray.core.errors import UsageError
from solarray.serve.app import FPNET, IATOOLS, INGRESS, MODEL_ROLES, SPNET
from solarray.serve.local import LocalServe, resolve

MODELS = (SPNET, IATOOLS, FPNET)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh $HOME with no demo run yet; the test runs in the checkout (serve/config.yaml with
    its placeholder paths is in the working directory)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(CHECKPOINT_DIR_ENV, raising=False)
    assert Path("serve/config.yaml").is_file()
    return tmp_path / "home"


def _demo_checkpoints(fake_roles=True):
    """What `solarray demo` leaves: one file per role where `solarray serve` looks; FPNet's AR
    model is a real tiny checkpoint, the others stand in as named files."""
    from solarray.models import build, save_model

    ckdir = default_checkpoint_dir()
    torch.manual_seed(0)
    save_model(build("fpnet", preset="tiny", channels=("aia193", "aia304", "hmi_m"), mode="ar"),
               ckdir / ROLE_FILES["fpnet_ar"])
    for role, name in ROLE_FILES.items():
        if role != "fpnet_ar" and fake_roles:
            (ckdir / name).write_bytes(b"stand-in")
    return ckdir


def test_serve_without_config_uses_the_demo_checkpoints(home):
    from solarray.pipeline.model_set import load_role

    ckdir = _demo_checkpoints()
    assert home in ckdir.parents
    r = resolve(LocalServe())
    assert r.config is None  # serve/config.yaml (the cluster's) is not read
    assert (r.host, r.port) == ("127.0.0.1", 8000)
    assert set(MODEL_ROLES) == set(MODELS) and set(r.options) >= {*MODELS, INGRESS}
    for name in MODELS:
        uc = r.options[name]["user_config"]
        assert uc["checkpoint_dir"] == str(ckdir) and "checkpoints" not in uc
        assert not uc.get("allow_untrained")
    # ... and a replica with that user_config loads the demo's model, not an untrained one.
    uc = r.options[FPNET]["user_config"]
    lm = load_role("fpnet_ar", uc.get("checkpoints", {}).get("fpnet_ar"),
                   checkpoint_dir=uc["checkpoint_dir"])
    assert lm.trained and lm.source == str(ckdir / ROLE_FILES["fpnet_ar"])
    assert r.source == f"built-in options, demo checkpoints {ckdir}"

    # --checkpoint-dir or a config replaces the demo's checkpoints.
    other = home / "mine"
    other.mkdir()
    for name in ROLE_FILES.values():
        (other / name).write_bytes(b"x")
    r = resolve(LocalServe(checkpoint_dir=str(other)))
    assert {r.options[n]["user_config"]["checkpoint_dir"] for n in MODELS} == {str(other)}
    with pytest.raises(UsageError, match="/path/to/checkpoints/spnet.pt does not exist"):
        resolve(LocalServe(config="serve/config.yaml"))


def test_serve_without_demo_checkpoints_says_run_demo_first(home, capsys):
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("solarray serve: error:")
    assert f"no demo checkpoints in {default_checkpoint_dir()}" in err
    assert "run `solarray demo` first" in err and "--checkpoint-dir" in err
    assert "/path/to" not in err  # not the cluster config's placeholders

    # A demo that stopped half-way: the missing files are named.
    _demo_checkpoints(fake_roles=False)
    with pytest.raises(UsageError) as e:
        resolve(LocalServe())
    assert f"{default_checkpoint_dir()} lacks spnet.pt, hale.pt, mcintosh.pt, fpnet_full_disk.pt" in str(e.value)
    assert "\n" not in str(e.value)
    # A deliberate try-out still starts without them (untrained stand-ins, allowed).
    r = resolve(LocalServe(allow_untrained=True))
    assert all(r.options[n]["user_config"]["allow_untrained"] for n in MODELS)
