"""Loading the models of one forecast cycle: configured checkpoints, the demo's, or tiny untrained.

Roles (file names in :data:`solarray.core.checkpoints.ROLE_FILES`): ``spnet`` (registry model
``spnet``), ``fpnet_full_disk`` and ``fpnet_ar`` (registry model ``fpnet`` in its two modes),
``hale`` and ``mcintosh`` (registry model ``ar_classifier``; older ``dict(config, inner, outer)``
files load too).

Resolution per role, in order:

1. a configured path or fsspec URI (``s3://…``) → load it; if that fails the role is **not loaded**
   (``error`` set): a configured checkpoint is never silently replaced (the Serve deployments
   refuse to start, :mod:`solarray.serve.deployments`);
2. the file of that role in :func:`solarray.core.checkpoints.default_checkpoint_dir` (where
   ``solarray demo`` leaves its checkpoints);
3. a tiny untrained model (seeded, so every replica builds the same one), version
   ``"<name>-tiny:untrained"`` (:data:`UNTRAINED`) and a loud warning; every response then says
   ``"untrained"``.

A role served by a fallback (step 3, also when step 2's file is unreadable) carries the reason in
``LoadedModel.fallback``; :meth:`ModelSet.degraded` lists those reasons unless the operator set
``allow_untrained`` — the service then reports ``degraded`` (``/v1/health`` 503, a warning in
every response) instead of looking healthy.

Every checkpoint is read with ``torch.load(weights_only=True)``: no pickle code runs.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solarray.core.checkpoints import ROLE_FILES, default_checkpoint_dir, model_file
from solarray.models import build, model_from_checkpoint_dict

log = logging.getLogger("solarray.serve")

#: Marker that appears in the model version of every model that was not trained.
UNTRAINED = "untrained"

#: Input channels of the tiny untrained stand-ins (the paper's modalities for AR, CH, FL).
UNTRAINED_CHANNELS: tuple[str, ...] = ("aia193", "aia304", "hmi_m")

ROLES = tuple(ROLE_FILES)


class ModelLoadError(RuntimeError):
    """A configured checkpoint could not be read or is not the model the role needs."""


@dataclass
class LoadedModel:
    """One role's model and where it came from.

    ``model`` is ``None`` when loading failed (``error`` says why). ``version`` is
    ``"<model>@<sha256 prefix>"`` for checkpoints and contains ``"untrained"`` for stand-ins.
    """

    role: str
    model: Any = None
    version: str = ""
    source: str = ""
    trained: bool = False
    error: str | None = None
    fallback: str | None = None  # why this role serves a stand-in instead of a trained checkpoint

    @property
    def ok(self) -> bool:
        return self.model is not None and self.error is None

    def describe(self) -> dict[str, object]:
        """JSON summary for ``/v1/models`` and ``/v1/health``."""
        out: dict[str, object] = {"role": self.role, "version": self.version,
                                  "source": self.source, "trained": self.trained,
                                  "loaded": self.ok}
        if self.error:
            out["error"] = self.error
        if self.fallback:
            out["fallback"] = self.fallback
        cfg = getattr(getattr(self.model, "config", None), "__dict__", None)
        if cfg:
            out["config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()
                             if isinstance(v, (int, float, str, bool, tuple, list))}
        return out


def read_checkpoint_bytes(uri: str | os.PathLike) -> bytes:
    """Bytes of a checkpoint at a local path (a directory means its ``model.pt``) or fsspec URI."""
    uri = os.fspath(uri)
    if "://" in uri and not uri.startswith("file://"):
        import fsspec

        try:
            with fsspec.open(uri, "rb") as f:
                return f.read()
        except Exception as err:  # noqa: BLE001 - fsspec raises backend-specific errors
            raise ModelLoadError(f"{uri}: cannot read ({type(err).__name__}: {err})") from err
    path = model_file(Path(uri.removeprefix("file://")).expanduser())
    if not path.is_file():
        raise ModelLoadError(f"{path}: checkpoint not found")
    return path.read_bytes()


def _torch_load(raw: bytes, uri: str) -> Mapping[str, Any]:
    import torch

    try:
        ckpt = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - truncated files, foreign pickles (refused), ...
        raise ModelLoadError(f"{uri}: not a weights-only torch checkpoint "
                             f"({type(err).__name__}: {str(err)[:200]})") from err
    if not isinstance(ckpt, Mapping):
        raise ModelLoadError(f"{uri}: checkpoint is a {type(ckpt).__name__}, expected a dict")
    return ckpt


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:12]


def load_registry_checkpoint(uri: str | os.PathLike, expect: str,
                             mode: str | None = None) -> tuple[Any, str]:
    """``(model in eval mode, version)`` from a :mod:`solarray.models` checkpoint.

    ``expect``: the registry name the role needs (``spnet``/``fpnet``); ``mode``: FPNet's mode.
    Raises :class:`ModelLoadError` naming the file and what was wrong.
    """
    uri = os.fspath(uri)
    raw = read_checkpoint_bytes(uri)
    ckpt = _torch_load(raw, uri)
    name = ckpt.get("model")
    if name != expect:
        raise ModelLoadError(f"{uri}: checkpoint of model {name!r}, expected {expect!r}")
    if mode is not None and (ckpt.get("config") or {}).get("mode", mode) != mode:
        raise ModelLoadError(f"{uri}: fpnet checkpoint in mode {ckpt['config'].get('mode')!r}, "
                             f"expected {mode!r}")
    try:
        model = model_from_checkpoint_dict(ckpt, source=uri)
    except Exception as err:  # noqa: BLE001 - config/state mismatch, unknown model
        raise ModelLoadError(f"{uri}: cannot rebuild {expect} ({type(err).__name__}: {err})") from err
    return model.eval(), f"{expect}@{_digest(raw)}"


def load_classifier_checkpoint(uri: str | os.PathLike, task: str) -> tuple[Any, str]:
    """``(ARClassifier, version)`` from a classifier checkpoint of ``task`` (hale/mcintosh)."""
    uri = os.fspath(uri)
    raw = read_checkpoint_bytes(uri)
    ckpt = _torch_load(raw, uri)
    try:
        model = model_from_checkpoint_dict(ckpt, source=uri)  # older layouts are converted
        if getattr(model, "model_name", None) != "ar_classifier":
            raise ValueError(f"checkpoint of model {model.model_name!r}, expected 'ar_classifier'")
        if model.config.task != task:
            raise ValueError(f"classifier for task {model.config.task!r}, expected {task!r}")
    except Exception as err:  # noqa: BLE001
        raise ModelLoadError(f"{uri}: {type(err).__name__}: {err}") from err
    return model.eval(), f"{task}@{_digest(raw)}"


def _untrained(role: str, channels: Sequence[str], preset: str = "tiny") -> Any:
    """A seeded untrained model for ``role``."""
    import torch

    torch.manual_seed(0)
    if role == "spnet":
        return build("spnet", preset=preset, channels=tuple(channels)).eval()
    if role in ("fpnet_full_disk", "fpnet_ar"):
        if role == "fpnet_ar":
            return build("fpnet", preset=preset, channels=tuple(channels), mode="ar").eval()
        # Disk-level features as solarray.forecast.training.model_config_for sets them.
        return build("fpnet", preset=preset, channels=tuple(channels), mode="full_disk",
                     scalar_features=("f107", "flare_index", "area_msh", "n_ar"),
                     log_features=("flare_index", "area_msh")).eval()
    if role in ("hale", "mcintosh"):
        return build("ar_classifier", task=role).eval()
    raise KeyError(f"unknown model role {role!r}; expected one of {', '.join(ROLES)}")


def _load_file(role: str, uri: str) -> tuple[Any, str]:
    if role == "spnet":
        return load_registry_checkpoint(uri, "spnet")
    if role == "fpnet_full_disk":
        return load_registry_checkpoint(uri, "fpnet", mode="full_disk")
    if role == "fpnet_ar":
        return load_registry_checkpoint(uri, "fpnet", mode="ar")
    return load_classifier_checkpoint(uri, role)


def load_role(role: str, configured: str | None = None, *,
              checkpoint_dir: str | os.PathLike | None = None,
              channels: Sequence[str] = UNTRAINED_CHANNELS,
              untrained_preset: str = "tiny",
              build_untrained: bool = True) -> LoadedModel:
    """Resolve and load one role (see the module docstring for the order)."""
    if role not in ROLES:
        raise KeyError(f"unknown model role {role!r}; expected one of {', '.join(ROLES)}")
    if configured:
        try:
            model, version = _load_file(role, configured)
            return LoadedModel(role, model, version, str(configured), trained=True)
        except ModelLoadError as err:
            log.error("model %s: configured checkpoint failed to load: %s", role, err)
            return LoadedModel(role, None, "not loaded", str(configured), error=str(err))
    ckdir = Path(checkpoint_dir).expanduser() if checkpoint_dir else default_checkpoint_dir()
    demo = ckdir / ROLE_FILES[role]
    why = f"no checkpoint configured for {role} and no {ROLE_FILES[role]} in {ckdir}"
    if demo.is_file():
        try:
            model, version = _load_file(role, str(demo))
            return LoadedModel(role, model, version, str(demo), trained=True)
        except ModelLoadError as err:
            log.error("model %s: %s is unreadable (%s); falling back", role, demo, err)
            why = f"{demo} is unreadable ({err})"
    if not build_untrained:
        return LoadedModel(role, None, "not loaded", "", error=why)
    try:
        model = _untrained(role, channels, untrained_preset)
    except Exception as err:  # noqa: BLE001 - e.g. model family not available
        return LoadedModel(role, None, "not loaded", UNTRAINED,
                           error=f"cannot build an untrained {role}: {type(err).__name__}: {err}")
    name = {"spnet": "spnet", "fpnet_full_disk": "fpnet", "fpnet_ar": "fpnet"}.get(role, role)
    log.warning("!!! model %s: NO CHECKPOINT configured and none in %s: serving a %s UNTRAINED "
                "%s — its outputs are meaningless (run `solarray demo` or configure checkpoints)",
                role, ckdir, untrained_preset.upper(), name)
    return LoadedModel(role, model, f"{name}-{untrained_preset}:{UNTRAINED}", UNTRAINED,
                       fallback=f"{why}: serving a {untrained_preset} UNTRAINED {name}")


@dataclass
class ModelSet:
    """The models of one cycle, by role (a stage only needs its own roles)."""

    roles: dict[str, LoadedModel] = field(default_factory=dict)
    #: the operator accepts stand-ins (``allow_untrained: true``): fallbacks do not degrade
    allow_untrained: bool = False

    def get(self, role: str) -> Any:
        lm = self.roles.get(role)
        if lm is None:
            raise KeyError(f"model {role} is not part of this model set")
        if not lm.ok:
            raise ModelLoadError(f"model {role} is not loaded: {lm.error}")
        return lm.model

    def optional(self, role: str) -> Any:
        lm = self.roles.get(role)
        return lm.model if lm is not None and lm.ok else None

    def versions(self) -> dict[str, str]:
        return {r: lm.version for r, lm in self.roles.items()}

    def errors(self) -> dict[str, str]:
        return {r: lm.error for r, lm in self.roles.items() if lm.error}

    def degraded(self) -> dict[str, str]:
        """Why each role serves a fallback, ``{role: reason}``; empty when every role has its
        checkpoint or the operator allowed untrained models."""
        if self.allow_untrained:
            return {}
        return {r: lm.fallback for r, lm in self.roles.items() if lm.fallback}

    @property
    def untrained(self) -> list[str]:
        return [r for r, lm in self.roles.items() if UNTRAINED in lm.version]


def load_models(paths: Mapping[str, str | None] | None = None, *,
                roles: Sequence[str] = ROLES,
                checkpoint_dir: str | os.PathLike | None = None,
                channels: Sequence[str] = UNTRAINED_CHANNELS,
                untrained_preset: str = "tiny", allow_untrained: bool = False) -> ModelSet:
    """Load ``roles`` (configured ``paths[role]`` or the fallbacks) into a :class:`ModelSet`;
    ``allow_untrained``: the operator accepts untrained stand-ins (not ``degraded``)."""
    paths = dict(paths or {})
    unknown = sorted(set(paths) - set(ROLES))
    if unknown:
        raise KeyError(f"unknown model role(s) {', '.join(unknown)}; expected {', '.join(ROLES)}")
    return ModelSet({r: load_role(r, paths.get(r), checkpoint_dir=checkpoint_dir,
                                  channels=channels, untrained_preset=untrained_preset)
                     for r in roles}, allow_untrained=bool(allow_untrained))


__all__ = ["LoadedModel", "ModelLoadError", "ModelSet", "ROLES", "UNTRAINED", "UNTRAINED_CHANNELS",
           "load_classifier_checkpoint", "load_models", "load_registry_checkpoint", "load_role",
           "read_checkpoint_bytes"]
