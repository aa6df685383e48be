"""Sweep definitions as data: a YAML file per sweep, parsed into a typed :class:`Sweep`.

A sweep names a registered model and objective, a search space over dotted paths into
:class:`solarray.train.config.TrainConfig` (``objective_config.temperature``,
``model_config.masking.ratio``, ``lr``), the validation metric ASHA watches and how to rank, and the
base ``TrainConfig`` overrides every trial starts from::

    name: contrastive_weights
    model: solarchip_vit
    objective: solarchip
    metric: val_retrieval_mrr      # a key the training loop reports (val_* when validating)
    mode: max
    samples: 8                     # Tune num_samples (grid values are crossed with it)
    space:
      objective_config.lambda_global: {loguniform: [0.1, 10.0]}
      objective_config.temperature: {choice: [0.05, 0.1, 0.2]}
    base: {model_config: {preset: tiny}, steps: 200, report_every: 20}
    asha: {grace_period: 40, reduction_factor: 2}
    resources: {trial_workers: 1, cpus_per_worker: 1.0, use_gpu: false}

Domains: ``grid: [v, ...]``, ``choice: [v, ...]``, ``uniform: [low, high]``,
``loguniform: [low, high]`` (0 < low), ``randint: [low, high)``. Shipped sweeps live in
``solarray/tune/sweeps/<name>.yaml``. Parsing needs neither Ray nor the registry; whether the
model/objective exist is checked separately (:func:`solarray.tune.trials.check_available`) so
sweeps for objectives on other branches can be defined before those land.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from solarray.train.config import TrainConfig

SWEEP_DIR = Path(__file__).parent / "sweeps"
KINDS = ("grid", "choice", "uniform", "loguniform", "randint")
MODES = ("min", "max")
SCORES = ("metric", "downstream")
TOP_KEYS = ("name", "description", "model", "objective", "metric", "mode", "samples", "space",
            "base", "asha", "resources", "score")
# TrainConfig fields the tuner sets itself (per trial / from the data / from the command line).
RUNNER_FIELDS = ("run_name", "storage_path", "channels", "num_workers", "cpus_per_worker",
                 "use_gpu", "model", "objective", "fail_at_step")


class SweepError(ValueError):
    """A sweep definition is invalid; the message names the file and the field."""


class SweepUnavailable(RuntimeError):
    """The sweep's model or objective is not registered (its branch has not been merged)."""


@dataclass(frozen=True)
class Param:
    """One searched parameter: a dotted ``TrainConfig`` path and its domain."""

    path: str
    kind: str
    args: tuple

    def domain(self):
        """The ``ray.tune`` search-space object."""
        from ray import tune

        if self.kind == "grid":
            return tune.grid_search(list(self.args))
        if self.kind == "choice":
            return tune.choice(list(self.args))
        low, high = self.args
        return {"uniform": tune.uniform, "loguniform": tune.loguniform,
                "randint": tune.randint}[self.kind](low, high)

    def example(self) -> Any:
        """A value inside the domain (used to validate paths before any trial runs)."""
        if self.kind in ("grid", "choice"):
            return self.args[0]
        low, high = self.args
        if self.kind == "randint":
            return int(low)
        if self.kind == "loguniform":
            return float((low * high) ** 0.5)
        return float((low + high) / 2)

    @property
    def values(self) -> list | None:
        """The finite set of values (grid/choice), else ``None``."""
        return list(self.args) if self.kind in ("grid", "choice") else None


@dataclass(frozen=True)
class Asha:
    """ASHA on the reported ``step``: rungs at ``grace_period · reduction_factor^k`` steps."""

    grace_period: int = 0  # 0 → a quarter of the trial's steps
    reduction_factor: float = 2.0

    def grace(self, steps: int) -> int:
        return max(1, min(steps, self.grace_period or steps // 4))


@dataclass(frozen=True)
class Resources:
    """Per-trial Ray Train resources (overridable on the command line)."""

    trial_workers: int = 1
    cpus_per_worker: float = 1.0
    use_gpu: bool = False


@dataclass(frozen=True)
class Sweep:
    name: str
    model: str
    objective: str | None
    metric: str
    mode: str
    space: tuple[Param, ...]
    base: dict = field(default_factory=dict)
    samples: int = 1
    asha: Asha = Asha()
    resources: Resources = Resources()
    score: str = "metric"
    description: str = ""
    source: str = "<mapping>"

    @property
    def param_paths(self) -> list[str]:
        return [p.path for p in self.space]

    @property
    def steps(self) -> int:
        return int(self.base.get("steps", TrainConfig.steps))

    def to_dict(self) -> dict[str, Any]:
        """The mapping this sweep was parsed from (round-trips through :func:`parse_sweep`)."""
        return {
            "name": self.name, "description": self.description, "model": self.model,
            "objective": self.objective, "metric": self.metric, "mode": self.mode,
            "samples": self.samples, "score": self.score,
            "space": {p.path: {p.kind: list(p.args)} for p in self.space},
            "base": copy.deepcopy(self.base),
            "asha": dataclasses.asdict(self.asha), "resources": dataclasses.asdict(self.resources),
        }

    def replace(self, **changes: Any) -> Sweep:
        return dataclasses.replace(self, **changes)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepError(f"{where}: expected a number, got {value!r}")
    return value


def _parse_param(path: str, spec: Any, source: str) -> Param:
    where = f"{source}: space.{path}"
    if not isinstance(spec, dict) or len(spec) != 1:
        raise SweepError(f"{where}: expected one of {{{': ..., '.join(KINDS)}: ...}}, got {spec!r}")
    (kind, args), = spec.items()
    if kind not in KINDS:
        raise SweepError(f"{where}: unknown domain {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(args, list) or not args:
        raise SweepError(f"{where}: {kind} needs a non-empty list, got {args!r}")
    if kind in ("grid", "choice"):
        return Param(path, kind, tuple(args))
    if len(args) != 2:
        raise SweepError(f"{where}: {kind} needs [low, high], got {args!r}")
    low, high = (_number(a, f"{where}.{kind}") for a in args)
    if not low < high:
        raise SweepError(f"{where}: {kind} needs low < high, got [{low}, {high}]")
    if kind == "loguniform" and low <= 0:
        raise SweepError(f"{where}: loguniform needs 0 < low, got {low}")
    if kind == "randint" and not (float(low).is_integer() and float(high).is_integer()):
        raise SweepError(f"{where}: randint needs integer bounds, got [{low}, {high}]")
    if kind == "randint":
        low, high = int(low), int(high)
    return Param(path, kind, (low, high))


def _check_path(path: str, source: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    head, *rest = path.split(".")
    if not path or any(not part for part in path.split(".")):
        raise SweepError(f"{source}: space: bad parameter path {path!r}")
    if head not in fields:
        raise SweepError(f"{source}: space.{path}: {head!r} is not a TrainConfig field; expected "
                         f"one of {', '.join(sorted(fields))} (dotted into model_config / "
                         f"objective_config)")
    if head in RUNNER_FIELDS:
        raise SweepError(f"{source}: space.{path}: {head} is set by the tuner, not searched")
    if rest and head not in ("model_config", "objective_config"):
        raise SweepError(f"{source}: space.{path}: only model_config and objective_config take "
                         f"dotted sub-keys")


def parse_sweep(values: Any, source: str = "<mapping>") -> Sweep:
    """Validate a sweep mapping (as loaded from YAML) into a :class:`Sweep`.

    Every error is a :class:`SweepError` naming ``source`` and the offending field.
    """
    if not isinstance(values, dict):
        raise SweepError(f"{source}: expected a mapping of sweep keys at the top level")
    unknown = sorted(set(values) - set(TOP_KEYS))
    if unknown:
        raise SweepError(f"{source}: unknown sweep key(s) {', '.join(unknown)}; expected some of "
                         f"{', '.join(TOP_KEYS)}")
    for key in ("name", "model", "metric", "space"):
        if key not in values:
            raise SweepError(f"{source}: missing required key {key!r}")
    name, model, metric = values["name"], values["model"], values["metric"]
    for key, v in (("name", name), ("model", model), ("metric", metric)):
        if not isinstance(v, str) or not v:
            raise SweepError(f"{source}: {key} must be a non-empty string, got {v!r}")
    if os.sep in name:
        raise SweepError(f"{source}: name must be a plain name, got {name!r}")
    objective = values.get("objective")
    if objective is not None and not isinstance(objective, str):
        raise SweepError(f"{source}: objective must be a string or null, got {objective!r}")
    mode = values.get("mode", "min")
    if mode not in MODES:
        raise SweepError(f"{source}: mode must be 'min' or 'max', got {mode!r}")
    score = values.get("score", "metric")
    if score not in SCORES:
        raise SweepError(f"{source}: score must be one of {', '.join(SCORES)}, got {score!r}")
    samples = values.get("samples", 1)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SweepError(f"{source}: samples must be an integer >= 1, got {samples!r}")

    space = values["space"]
    if not isinstance(space, dict) or not space:
        raise SweepError(f"{source}: space must be a non-empty mapping of parameter paths")
    params = []
    for path, spec in space.items():
        if not isinstance(path, str):
            raise SweepError(f"{source}: space: parameter paths must be strings, got {path!r}")
        _check_path(path, source)
        params.append(_parse_param(path, spec, source))
    for a in params:
        for b in params:
            if a is not b and b.path.startswith(a.path + "."):
                raise SweepError(f"{source}: space.{b.path} is inside space.{a.path}")

    base = values.get("base") or {}
    if not isinstance(base, dict):
        raise SweepError(f"{source}: base must be a mapping of TrainConfig keys")
    for key in base:
        if key in RUNNER_FIELDS:
            raise SweepError(f"{source}: base.{key} is set by the tuner (model/objective at the "
                             f"top level, resources under 'resources' or on the command line)")
    try:
        TrainConfig.from_dict(dict(base), source=f"{source}: base")
    except (TypeError, ValueError) as err:
        raise SweepError(str(err) if source in str(err) else f"{source}: base: {err}") from None

    asha = values.get("asha") or {}
    if not isinstance(asha, dict) or set(asha) - {"grace_period", "reduction_factor"}:
        raise SweepError(f"{source}: asha takes grace_period and reduction_factor, got {asha!r}")
    gp = asha.get("grace_period", 0)
    rf = asha.get("reduction_factor", 2.0)
    if isinstance(gp, bool) or not isinstance(gp, int) or gp < 0:
        raise SweepError(f"{source}: asha.grace_period must be an integer >= 0 steps, got {gp!r}")
    if _number(rf, f"{source}: asha.reduction_factor") <= 1:
        raise SweepError(f"{source}: asha.reduction_factor must be > 1, got {rf!r}")

    res = values.get("resources") or {}
    known_res = {f.name for f in dataclasses.fields(Resources)}
    if not isinstance(res, dict) or set(res) - known_res:
        raise SweepError(f"{source}: resources takes {', '.join(sorted(known_res))}, got {res!r}")
    resources = Resources(**res)
    if isinstance(resources.trial_workers, bool) or not isinstance(resources.trial_workers, int) \
            or resources.trial_workers < 1:
        # Ray Train's local mode (0 workers) cannot run inside a Tune trial (ray.train.get_context
        # raises there), so every trial runs at least one Train worker.
        raise SweepError(f"{source}: resources.trial_workers must be an integer >= 1")
    if _number(resources.cpus_per_worker, f"{source}: resources.cpus_per_worker") <= 0:
        raise SweepError(f"{source}: resources.cpus_per_worker must be > 0")

    return Sweep(name=name, model=model, objective=objective, metric=metric, mode=mode,
                 space=tuple(params), base=copy.deepcopy(base), samples=samples,
                 asha=Asha(gp, float(rf)), resources=resources, score=score,
                 description=str(values.get("description") or "").strip(), source=source)


def shipped_sweeps() -> list[str]:
    """Names of the sweeps shipped in ``solarray/tune/sweeps``."""
    return sorted(p.stem for p in SWEEP_DIR.glob("*.yaml"))


def load_sweep(name_or_path: str | os.PathLike) -> Sweep:
    """A shipped sweep by name, or a sweep YAML/JSON file by path."""
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists()):
        path = SWEEP_DIR / f"{text}.yaml"
        if not path.exists():
            raise SweepError(f"unknown sweep {text!r}; shipped sweeps: "
                             f"{', '.join(shipped_sweeps())} (or give a .yaml file)")
    if not path.exists():
        raise SweepError(f"sweep file not found: {path}")
    raw = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            values = json.loads(raw)
        else:
            values = yaml.safe_load(raw)
    except Exception as err:  # noqa: BLE001 - parser errors vary; report them with the file
        raise SweepError(f"{path}: cannot parse: {err}") from None
    return parse_sweep(values, source=str(path))


def param_space(sweep: Sweep) -> dict[str, Any]:
    """Tune ``param_space``: ``{dotted path: domain}``."""
    return {p.path: p.domain() for p in sweep.space}
