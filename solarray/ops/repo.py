"""Validate every shipped deployment file of a checkout: ``cluster.yaml`` and ``k8s/*.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from solarray.ops.cluster_config import validate_cluster_config
from solarray.ops.kuberay import validate_kuberay


@dataclass
class Report:
    """Problems per file, for a command that validates the shipped files."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def validate_repo(root: str | Path = ".") -> Report:
    """Validate ``cluster.yaml`` and every ``k8s/*.yaml`` under ``root``."""
    root = Path(root)
    report = Report()
    path = root / "cluster.yaml"
    try:
        report.problems[str(path)] = validate_cluster_config(yaml.safe_load(path.read_text()),
                                                             source=path.name)
    except (OSError, yaml.YAMLError) as err:
        report.problems[str(path)] = [f"{path}: {err}"]
    for path in sorted((root / "k8s").glob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
            report.problems[str(path)] = validate_kuberay(docs, source=f"k8s/{path.name}")
        except (OSError, yaml.YAMLError) as err:
            report.problems[str(path)] = [f"{path}: {err}"]
    return report


__all__ = ["Report", "validate_repo"]
