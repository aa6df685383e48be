"""Offline checks of ``cluster.yaml``, the Ray autoscaler config for VM clusters (AWS, GCP).

Nothing here reaches a cloud: the checks read the parsed YAML and compare it with Ray's own
autoscaler schema, with the installed Ray and Python versions, with a small table of instance
shapes, and with :data:`~solarray.ops.placement.JOB_REQUESTS`. They return a list of problems, one
human-readable line each (``"<source>: <field path>: what is wrong"``), and never raise on bad
input.

    >>> import yaml
    >>> validate_cluster_config(yaml.safe_load(open("cluster.yaml")), source="cluster.yaml")
    []
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from solarray.ops.fields import as_int, numeric_resources
from solarray.ops.placement import JOB_REQUESTS, NodeType, Request, check_jobs
from solarray.ops.versions import check_pin, check_ray_image, installed_ray_version

# Keys of the pre-2.0 autoscaler format (single head/worker node, utilisation-driven scaling).
LEGACY_KEYS = {
    "head_node": "describe the head under available_node_types and name it in head_node_type",
    "worker_nodes": "describe workers under available_node_types",
    "min_workers": "set min_workers per entry of available_node_types",
    "initial_workers": "removed; set min_workers per node type",
    "target_utilization_fraction": "removed; use upscaling_speed",
    "autoscaling_mode": "removed; use upscaling_speed",
    "worker_default_node_type": "removed; the autoscaler picks node types from resource demand",
}
REQUIRED_KEYS = ("cluster_name", "max_workers", "idle_timeout_minutes", "provider", "auth",
                 "docker", "available_node_types", "head_node_type", "setup_commands")

# (vCPUs, GPUs) of the instance types solarray's configs use; unknown types are not size-checked.
INSTANCE_SHAPES: dict[str, tuple[int, int]] = {
    "m5.xlarge": (4, 0), "m5.2xlarge": (8, 0), "m5.4xlarge": (16, 0), "m5.8xlarge": (32, 0),
    "m6i.xlarge": (4, 0), "m6i.2xlarge": (8, 0), "m6i.4xlarge": (16, 0), "m6i.8xlarge": (32, 0),
    "c6i.4xlarge": (16, 0), "c6i.8xlarge": (32, 0), "r6i.4xlarge": (16, 0),
    "g5.xlarge": (4, 1), "g5.2xlarge": (8, 1), "g5.4xlarge": (16, 1), "g5.8xlarge": (32, 1),
    "g5.12xlarge": (48, 4), "g5.24xlarge": (96, 4), "g5.48xlarge": (192, 8),
    "g6.xlarge": (4, 1), "g6.4xlarge": (16, 1), "g6.12xlarge": (48, 4), "g6.48xlarge": (192, 8),
    "p4d.24xlarge": (96, 8), "p5.48xlarge": (192, 8),
    "n2-standard-8": (8, 0), "n2-standard-16": (16, 0), "n2-standard-32": (32, 0),
    "a2-highgpu-1g": (12, 1), "a2-highgpu-4g": (48, 4), "a2-highgpu-8g": (96, 8),
    "g2-standard-48": (48, 4),
}
_AWS_GPU_FAMILY = re.compile(r"^(g\d+[a-z]*|gr\d+|p\d+[a-z]*)\.")
_GCP_GPU_FAMILY = re.compile(r"^(a2|a3|g2)-")


def _instance_type(node_config: Mapping) -> str | None:
    for key in ("InstanceType", "machineType"):
        value = node_config.get(key)
        if isinstance(value, str):
            return value.rsplit("/", 1)[-1]  # GCP may give a zone-qualified URL
    return None


def _is_gpu_instance(name: str, node_config: Mapping) -> bool:
    itype = _instance_type(node_config) or ""
    return bool(_AWS_GPU_FAMILY.match(itype) or _GCP_GPU_FAMILY.match(itype)
                or node_config.get("guestAccelerators") or "gpu" in name.lower())


def _schema_problems(cfg: Mapping, where: str) -> list[str]:
    """Ray's own autoscaler schema (ray/autoscaler/ray-schema.json), without legacy-key noise."""
    import jsonschema
    import ray.autoscaler

    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    problems = []
    for err in sorted(jsonschema.Draft7Validator(schema).iter_errors(cfg), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties" and not err.absolute_path:
            extra = sorted(set(cfg) - set(schema["properties"]) - set(LEGACY_KEYS))
            if not extra:
                continue  # reported as legacy keys, with the replacement
            problems.append(f"{where}: unknown top-level key(s) {extra}")
            continue
        problems.append(f"{where}: {path}: {err.message}")
    return problems


def cluster_node_types(cfg: Mapping) -> list[NodeType]:
    """Node types of a parsed cluster.yaml (declared ``resources``; the head counts once)."""
    head = cfg.get("head_node_type")
    types = cfg.get("available_node_types")
    out = []
    for name, nt in (types.items() if isinstance(types, Mapping) else ()):
        if isinstance(nt, Mapping):
            out.append(NodeType(str(name), numeric_resources(nt.get("resources")),
                                as_int(nt.get("min_workers")), as_int(nt.get("max_workers")),
                                head=(name == head)))
    return out


def validate_cluster_config(cfg: Any, *, source: str = "cluster.yaml",
                            jobs: Mapping[str, Iterable[Request]] | None = None,
                            ray_version: str | None = None) -> list[str]:
    """Problems with a parsed Ray autoscaler config (``yaml.safe_load(open("cluster.yaml"))``).

    Checks: Ray's schema; no legacy keys; required keys; ``head_node_type`` names an entry of
    ``available_node_types``; min ≤ max workers and the global ``max_workers`` ≥ Σ min_workers;
    explicit CPU (and GPU on GPU instance types) resources within the instance's shape; pinned
    Ray images equal to the installed Ray, CUDA images on GPU nodes; a pinned solarray install;
    and every job in ``jobs`` (default ``JOB_REQUESTS``) placeable at maximum cluster size.
    """
    where = source
    if not isinstance(cfg, Mapping):
        return [f"{where}: expected a YAML mapping at the top level, got {type(cfg).__name__}"]
    ray_version = ray_version or installed_ray_version()
    jobs = JOB_REQUESTS if jobs is None else jobs
    problems: list[str] = []
    for key, hint in LEGACY_KEYS.items():
        if key in cfg:
            problems.append(f"{where}: legacy key {key!r} ({hint})")
    for key in REQUIRED_KEYS:
        if key not in cfg:
            problems.append(f"{where}: missing required key {key!r}")
    problems += _schema_problems(cfg, where)

    provider = cfg.get("provider") if isinstance(cfg.get("provider"), Mapping) else {}
    ptype = provider.get("type")
    if ptype not in ("aws", "gcp"):
        problems.append(f"{where}: provider.type: expected 'aws' or 'gcp', got {ptype!r}")
    if not provider.get("region"):
        problems.append(f"{where}: provider.region is missing")
    if ptype == "gcp" and not provider.get("project_id"):
        problems.append(f"{where}: provider.project_id is required for GCP")
    if not isinstance(cfg.get("auth"), Mapping) or not cfg["auth"].get("ssh_user"):
        problems.append(f"{where}: auth.ssh_user is missing")
    idle = cfg.get("idle_timeout_minutes")
    if idle is not None and not (isinstance(idle, int | float) and idle > 0):
        problems.append(f"{where}: idle_timeout_minutes: expected a positive number, got {idle!r}")

    types = cfg.get("available_node_types")
    head = cfg.get("head_node_type")
    if not isinstance(types, Mapping) or not types:
        problems.append(f"{where}: available_node_types: expected at least a head and a worker type")
        types = {}
    if head is not None and (not isinstance(head, str) or head not in types):
        problems.append(f"{where}: head_node_type {head!r} is not one of available_node_types "
                        f"{sorted(types)}")
    global_max = cfg.get("max_workers")
    sum_min = 0
    docker = cfg.get("docker") if isinstance(cfg.get("docker"), Mapping) else {}
    for name, nt in types.items():
        at = f"{where}: available_node_types.{name}"
        if not isinstance(nt, Mapping):
            problems.append(f"{at}: expected a mapping")
            continue
        lo, hi = nt.get("min_workers", 0), nt.get("max_workers")
        if name != head:
            if hi is None:
                problems.append(f"{at}: max_workers is missing")
            elif isinstance(lo, int) and isinstance(hi, int) and lo > hi:
                problems.append(f"{at}: min_workers {lo} > max_workers {hi}")
            if isinstance(lo, int):
                sum_min += lo
        res = numeric_resources(nt.get("resources"))
        node_config = nt.get("node_config") if isinstance(nt.get("node_config"), Mapping) else {}
        gpu_node = _is_gpu_instance(name, node_config)
        if "CPU" not in res:
            problems.append(f"{at}: resources must declare CPU explicitly (0 on a head that should "
                            "run no tasks) so the autoscaler and these checks agree")
        if gpu_node and not res.get("GPU"):
            problems.append(f"{at}: GPU node type ({_instance_type(node_config) or name}) declares no "
                            "GPU in resources, so GPU tasks would never be scheduled on it")
        if res.get("GPU") and not gpu_node:
            problems.append(f"{at}: declares GPU {res['GPU']} but instance type "
                            f"{_instance_type(node_config)!r} has no GPU")
        shape = INSTANCE_SHAPES.get(_instance_type(node_config) or "")
        if shape:
            for key, have in zip(("CPU", "GPU"), shape, strict=True):
                want = res.get(key, 0)
                if isinstance(want, int | float) and want > have:
                    problems.append(f"{at}: resources {key}={want} but {_instance_type(node_config)} "
                                    f"has {have}")
        node_docker = nt.get("docker") if isinstance(nt.get("docker"), Mapping) else {}
        image = (node_docker.get("head_image") if name == head else node_docker.get("worker_image")) \
            or (docker.get("head_image") if name == head else docker.get("worker_image")) \
            or docker.get("image")
        problems += check_ray_image(image, f"{at}: image", gpu=gpu_node, ray_version=ray_version)
    if isinstance(global_max, int) and sum_min > global_max:
        problems.append(f"{where}: max_workers {global_max} < sum of min_workers {sum_min}")
    if not docker.get("container_name"):
        problems.append(f"{where}: docker.container_name is missing")

    commands = [c for key in ("setup_commands", "head_setup_commands", "worker_setup_commands")
                if isinstance(cfg.get(key), list) for c in cfg[key] if isinstance(c, str)]
    pinned = False
    for c in commands:
        ok, more = check_pin(c, f"{where}: setup_commands", ray_version)
        pinned |= ok
        problems += more
    if not pinned:
        problems.append(f"{where}: setup_commands: no pinned solarray install "
                        "(pip install \"solarray @ git+https://…@<tag>\" or solarray==<version>)")

    # Each job may use up to the global max_workers nodes of any one type (optimistic for a job
    # that mixes types, exact for the usual one-type job).
    cap = as_int(global_max) if global_max is not None else None
    node_types = [nt if cap is None or nt.head else
                  NodeType(nt.name, nt.resources, nt.min_workers, min(nt.max_workers, cap))
                  for nt in cluster_node_types(cfg)]
    if node_types:
        problems += check_jobs(node_types, jobs, where)
    return problems


__all__ = ["INSTANCE_SHAPES", "LEGACY_KEYS", "REQUIRED_KEYS", "cluster_node_types",
           "validate_cluster_config"]
