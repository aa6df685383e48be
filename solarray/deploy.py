"""Offline checks for the deployment files: the Ray autoscaler config and the KubeRay manifests.

Nothing here reaches a cloud or a Kubernetes API server: the checks read the parsed YAML and
compare it with Ray's own autoscaler schema, with the installed Ray and Python versions, with a
small table of instance shapes, and with ``JOB_REQUESTS`` — what each solarray job asks Ray for.

``validate_cluster_config(cfg)`` and ``validate_kuberay(docs)`` return a list of problems, one
human-readable line each (``"<source>: <field path>: what is wrong"``); an empty list means the
file passed. They never raise on bad input.

    >>> import yaml
    >>> validate_cluster_config(yaml.safe_load(open("cluster.yaml")), source="cluster.yaml")
    []
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# What the jobs ask for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """``count`` bundles of ``bundle`` resources; each bundle must fit on one node.

    ``bundle`` uses Ray resource names (``{"CPU": 8, "GPU": 1}``); fractions are allowed
    (``{"GPU": 0.5}`` = two replicas share one GPU). All requests of one job run at the same time.
    """

    role: str
    bundle: Mapping[str, float]
    count: int = 1


# The resources each job requests at its cluster defaults (the job scripts' defaults on a cluster;
# tests run the same code with CPU-only, tiny settings). Keep in step with jobs/*.py and serve/.
JOB_REQUESTS: dict[str, tuple[Request, ...]] = {
    # Ray Data FITS decode + preprocess actor pool (ActorPoolStrategy(max_size=16)).
    "ingest": (Request("preprocess actor", {"CPU": 1}, 16),),
    # TorchTrainer with ScalingConfig(num_workers=4, use_gpu=True, resources_per_worker CPU 8):
    # the CPUs feed iter_torch_batches.
    "pretrain": (Request("Train worker", {"CPU": 8, "GPU": 1}, 4),),
    # ASHA sweep: max_concurrent_trials=4, each trial a 1-worker TorchTrainer.
    "tune": (Request("trial Train worker", {"CPU": 8, "GPU": 1}, 4),),
    # Batch inference (map_batches on GPU actors) over the test period.
    "evaluate": (Request("inference actor", {"CPU": 4, "GPU": 1}, 2),),
    "forecast": (Request("inference actor", {"CPU": 4, "GPU": 1}, 1),),
    # Serve app at max_replicas: SPNet on half a GPU, IATools and FPNet on CPU.
    "serve": (
        Request("SPNet replica", {"CPU": 1, "GPU": 0.5}, 2),
        Request("IATools replica", {"CPU": 2}, 4),
        Request("FPNet replica", {"CPU": 1}, 2),
        Request("Ingress replica", {"CPU": 0.5}, 2),
    ),
}


@dataclass(frozen=True)
class NodeType:
    """One kind of node a cluster can run: what Ray sees on it and how many may exist."""

    name: str
    resources: Mapping[str, float]
    min_workers: int = 0
    max_workers: int = 0
    head: bool = False

    @property
    def max_count(self) -> int:
        return 1 if self.head else self.max_workers


def unplaced(node_types: Iterable[NodeType], requests: Iterable[Request]) -> list[str]:
    """Bundles that do not fit on the cluster at its maximum size (first-fit decreasing).

    Returns one ``"<role> <bundle>"`` line per request with at least one bundle left over.
    First-fit decreasing is a heuristic: an empty list proves the requests fit; a non-empty one
    is almost always a real shortage for the few, regular bundles of a job.
    """
    free = [dict(nt.resources) for nt in node_types for _ in range(nt.max_count)]
    bundles = [(r.role, dict(r.bundle)) for r in requests for _ in range(r.count)]
    bundles.sort(key=lambda rb: (rb[1].get("GPU", 0), sum(rb[1].values())), reverse=True)
    missing: dict[str, int] = {}
    for role, bundle in bundles:
        for node in free:
            if all(node.get(k, 0) + 1e-9 >= v for k, v in bundle.items()):
                for k, v in bundle.items():
                    node[k] = node.get(k, 0) - v
                break
        else:
            missing[role] = missing.get(role, 0) + 1
    total = {r.role: r for r in requests}
    return [f"{n} of {total[role].count} × {role} {dict(total[role].bundle)}"
            for role, n in missing.items()]


def _check_jobs(node_types: list[NodeType], jobs: Mapping[str, Iterable[Request]], where: str
                ) -> list[str]:
    problems = []
    for job, requests in jobs.items():
        for line in unplaced(node_types, requests):
            problems.append(f"{where}: job {job!r} cannot be placed at maximum cluster size: {line} "
                            f"do not fit on {_describe(node_types)}")
    return problems


def _describe(node_types: list[NodeType]) -> str:
    return ", ".join(f"{nt.max_count} × {nt.name} {dict(nt.resources)}" for nt in node_types)


# --------------------------------------------------------------------------------------------
# Images and installs
# --------------------------------------------------------------------------------------------

_RAY_IMAGE = re.compile(
    r"^(?:docker\.io/)?rayproject/ray(?:-ml)?:(?P<version>\d+\.\d+\.\d+)"
    r"(?:-py(?P<py>\d+))?(?P<extra>(?:-[a-z0-9]+)*)$")
_GPU_TAG = re.compile(r"-(gpu|cu\d+)\b")
_SOLARRAY_PIN = re.compile(
    r"solarray(?:\[[^\]]*\])?\s*(?:==\s*(?P<version>[\w.]+)|@\s*git\+\S+?@(?P<ref>[\w.\-/]+))")
_RAY_PIP = re.compile(r"\bray(?:\[[^\]]*\])?==(?P<version>[\w.]+)")
_FLOATING_REFS = {"main", "master", "head", "develop", "latest"}


def installed_ray_version() -> str:
    import ray

    return ray.__version__


def python_tag() -> str:
    """``py311`` for the running interpreter: Ray needs one Python minor version per cluster."""
    return f"py{sys.version_info.major}{sys.version_info.minor}"


def check_ray_image(image: Any, where: str, *, gpu: bool = False,
                    ray_version: str | None = None) -> list[str]:
    """A pinned official Ray image matching the installed Ray (and a CUDA tag on GPU nodes)."""
    ray_version = ray_version or installed_ray_version()
    if not isinstance(image, str) or not image:
        return [f"{where}: expected a Ray image like rayproject/ray:{ray_version}-{python_tag()}, "
                f"got {image!r}"]
    m = _RAY_IMAGE.match(image)
    if not m:
        return [f"{where}: {image!r} is not a pinned rayproject/ray:<version>-py<NN> image "
                "(floating tags such as 'latest' or 'nightly' drift away from the client's Ray)"]
    problems = []
    if m["version"] != ray_version:
        problems.append(f"{where}: image {image} runs Ray {m['version']} but Ray {ray_version} is "
                        "installed here; clients and cluster must run the same Ray version")
    if not m["py"]:
        problems.append(f"{where}: image {image} does not pin the Python version (add -{python_tag()})")
    if gpu and not _GPU_TAG.search(m["extra"] or ""):
        problems.append(f"{where}: GPU nodes need a CUDA image (e.g. {image}-gpu), got {image}")
    return problems


def _check_pin(text: str, where: str, ray_version: str) -> tuple[bool, list[str]]:
    """(solarray pinned?, problems) for one install command or pip list entry."""
    problems = []
    for m in _RAY_PIP.finditer(text):
        if m["version"] != ray_version:
            problems.append(f"{where}: installs ray=={m['version']} over the image's Ray {ray_version}")
    pinned = False
    for m in _SOLARRAY_PIN.finditer(text):
        ref = m["version"] or m["ref"]
        if m["ref"] and ref.lower() in _FLOATING_REFS:
            problems.append(f"{where}: solarray installed from branch {ref!r}; pin a tag or commit")
        else:
            pinned = True
    return pinned, problems


# --------------------------------------------------------------------------------------------
# cluster.yaml (Ray autoscaler, VM clusters)
# --------------------------------------------------------------------------------------------

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


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _numeric(resources: Any) -> dict[str, float]:
    if not isinstance(resources, Mapping):
        return {}
    return {str(k): float(v) for k, v in resources.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def cluster_node_types(cfg: Mapping) -> list[NodeType]:
    """Node types of a parsed cluster.yaml (declared ``resources``; the head counts once)."""
    head = cfg.get("head_node_type")
    types = cfg.get("available_node_types")
    out = []
    for name, nt in (types.items() if isinstance(types, Mapping) else ()):
        if isinstance(nt, Mapping):
            out.append(NodeType(str(name), _numeric(nt.get("resources")), _int(nt.get("min_workers")),
                                _int(nt.get("max_workers")), head=(name == head)))
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
        res = _numeric(nt.get("resources"))
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
        ok, more = _check_pin(c, f"{where}: setup_commands", ray_version)
        pinned |= ok
        problems += more
    if not pinned:
        problems.append(f"{where}: setup_commands: no pinned solarray install "
                        "(pip install \"solarray @ git+https://…@<tag>\" or solarray==<version>)")

    # Each job may use up to the global max_workers nodes of any one type (optimistic for a job
    # that mixes types, exact for the usual one-type job).
    cap = _int(global_max) if global_max is not None else None
    node_types = [nt if cap is None or nt.head else
                  NodeType(nt.name, nt.resources, nt.min_workers, min(nt.max_workers, cap))
                  for nt in cluster_node_types(cfg)]
    if node_types:
        problems += _check_jobs(node_types, jobs, where)
    return problems


# --------------------------------------------------------------------------------------------
# KubeRay (RayCluster, RayJob, RayService)
# --------------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^(?P<num>\d+(?:\.\d+)?)(?P<unit>m?)$")


def k8s_quantity(value: Any) -> float | None:
    """Kubernetes CPU/GPU quantity → number (``"500m"`` → 0.5, ``4`` → 4.0); None if invalid."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _QUANTITY.match(str(value).strip()) if value is not None else None
    if not m:
        return None
    return float(m["num"]) / (1000.0 if m["unit"] == "m" else 1.0)


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _ray_container(pod_spec: Mapping) -> Mapping | None:
    containers = pod_spec.get("containers")
    for c in containers if isinstance(containers, list) else ():  # KubeRay treats the first container as the Ray container
        return c if isinstance(c, Mapping) else None
    return None


def group_resources(group: Mapping) -> dict[str, float]:
    """What Ray advertises on one pod of a head or worker group, as KubeRay computes it.

    ``rayStartParams`` num-cpus / num-gpus win; otherwise the Ray container's CPU limit (request
    if no limit, floored: Ray counts whole CPUs) and its ``nvidia.com/gpu`` limit.
    """
    params = _mapping(group.get("rayStartParams"))
    container = _ray_container(_mapping(_mapping(group.get("template")).get("spec"))) or {}
    limits = _mapping(_mapping(container.get("resources")).get("limits"))
    requests = _mapping(_mapping(container.get("resources")).get("requests"))
    res: dict[str, float] = {}
    cpu = k8s_quantity(params["num-cpus"]) if "num-cpus" in params else \
        k8s_quantity(limits.get("cpu", requests.get("cpu")))
    if cpu is not None:
        res["CPU"] = float(math.floor(cpu)) if "num-cpus" not in params else cpu
    gpu = k8s_quantity(params["num-gpus"]) if "num-gpus" in params else \
        k8s_quantity(limits.get("nvidia.com/gpu"))
    if gpu:
        res["GPU"] = gpu
    return res


def raycluster_node_types(spec: Mapping) -> list[NodeType]:
    """Node types of a RayClusterSpec: the head group and each worker group at maxReplicas."""
    out = []
    out = [NodeType("head", group_resources(_mapping(spec.get("headGroupSpec"))), head=True)]
    groups = spec.get("workerGroupSpecs")
    for g in groups if isinstance(groups, list) else ():
        if isinstance(g, Mapping):
            out.append(NodeType(str(g.get("groupName")), group_resources(g),
                                _int(g.get("minReplicas")), _int(g.get("maxReplicas"))))
    return out


def _check_group_image(group: Mapping, at: str, ray_version: str) -> list[str]:
    container = _ray_container(_mapping(_mapping(group.get("template")).get("spec")))
    if container is None:
        return [f"{at}.template.spec.containers: no Ray container"]
    limits = _mapping(_mapping(container.get("resources")).get("limits"))
    gpu = bool(k8s_quantity(limits.get("nvidia.com/gpu")) or
               k8s_quantity(_mapping(group.get("rayStartParams")).get("num-gpus", 0)))
    problems = check_ray_image(container.get("image"), f"{at}: image", gpu=gpu,
                               ray_version=ray_version)
    if not limits.get("memory"):
        problems.append(f"{at}: the Ray container needs a memory limit (Ray sizes its object "
                        "store from it; without one a pod can be OOM-killed by the node)")
    return problems


def validate_raycluster_spec(spec: Any, where: str, *, ray_version: str | None = None,
                             jobs: Mapping[str, Iterable[Request]] | None = None) -> list[str]:
    """Problems with a RayClusterSpec (standalone, or embedded in a RayJob/RayService)."""
    ray_version = ray_version or installed_ray_version()
    if not isinstance(spec, Mapping):
        return [f"{where}: expected a RayClusterSpec mapping, got {type(spec).__name__}"]
    problems = []
    if str(spec.get("rayVersion")) != ray_version:
        problems.append(f"{where}.rayVersion: {spec.get('rayVersion')!r} ≠ installed Ray {ray_version}")
    if spec.get("enableInTreeAutoscaling") is not True:
        problems.append(f"{where}.enableInTreeAutoscaling: must be true (the autoscaler scales "
                        "worker groups between minReplicas and maxReplicas)")
    opts = _mapping(spec.get("autoscalerOptions"))
    if opts.get("upscalingMode", "Default") not in ("Default", "Aggressive", "Conservative"):
        problems.append(f"{where}.autoscalerOptions.upscalingMode: {opts.get('upscalingMode')!r}")
    if _mapping(spec.get("authOptions")).get("mode") != "token":
        problems.append(f"{where}.authOptions.mode: set 'token' (Ray ≥ 2.52 token auth; KubeRay "
                        "creates the Secret and sets RAY_AUTH_MODE/RAY_AUTH_TOKEN on every pod)")
    head = spec.get("headGroupSpec")
    if not isinstance(head, Mapping):
        problems.append(f"{where}.headGroupSpec: missing")
    else:
        problems += _check_group_image(head, f"{where}.headGroupSpec", ray_version)
        if "CPU" not in group_resources(head):
            problems.append(f"{where}.headGroupSpec: no CPU limit or rayStartParams num-cpus")
    groups = spec.get("workerGroupSpecs") if isinstance(spec.get("workerGroupSpecs"), list) else []
    if not groups:
        problems.append(f"{where}.workerGroupSpecs: no worker groups")
    names = set()
    for i, g in enumerate(groups):
        at = f"{where}.workerGroupSpecs[{i}]"
        if not isinstance(g, Mapping):
            problems.append(f"{at}: expected a mapping")
            continue
        name = g.get("groupName")
        if not name:
            problems.append(f"{at}.groupName: missing")
        elif name in names:
            problems.append(f"{at}.groupName: duplicate {name!r}")
        names.add(name)
        lo, hi, n = g.get("minReplicas"), g.get("maxReplicas"), g.get("replicas", g.get("minReplicas"))
        if not all(isinstance(x, int) for x in (lo, hi, n)):
            problems.append(f"{at}: minReplicas, maxReplicas (and replicas) must be integers, got "
                            f"{lo!r}, {hi!r}, {n!r}")
        elif not lo <= n <= hi:
            problems.append(f"{at}: needs minReplicas ≤ replicas ≤ maxReplicas, got {lo} ≤ {n} ≤ {hi}")
        problems += _check_group_image(g, at, ray_version)
        if "CPU" not in group_resources(g):
            problems.append(f"{at}: no CPU limit or rayStartParams num-cpus")
    if jobs:
        problems += _check_jobs(raycluster_node_types(spec), jobs, where)
    return problems


def _runtime_env_problems(text: Any, where: str, ray_version: str) -> list[str]:
    import yaml

    if not isinstance(text, str):
        return [f"{where}: expected a YAML string (use `|`), got {type(text).__name__}"]
    try:
        env = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        return [f"{where}: not valid YAML: {err}"]
    return _runtime_env_dict_problems(env, where, ray_version)


def _runtime_env_dict_problems(env: Any, where: str, ray_version: str) -> list[str]:
    if not isinstance(env, Mapping):
        return [f"{where}: expected a mapping, got {type(env).__name__}"]
    problems = []
    wd = env.get("working_dir")
    if wd is not None and not re.match(r"^(https?|s3|gs|az|abfss)://", str(wd)):
        problems.append(f"{where}.working_dir: {wd!r} is a local path; in Kubernetes it must be a "
                        "remote URI (https://…/archive/<tag>.zip, s3://, gs://)")
    pip = env.get("pip") or []
    pip = pip.get("packages", []) if isinstance(pip, Mapping) else pip
    pinned, more = False, []
    for entry in pip if isinstance(pip, list) else []:
        ok, p = _check_pin(str(entry), f"{where}.pip", ray_version)
        pinned |= ok
        more += p
    if not pinned:
        more.append(f"{where}.pip: no pinned solarray (\"solarray @ git+https://…@<tag>\")")
    return problems + more


def serve_requests(serve_config: Mapping) -> tuple[Request, ...]:
    """Resource requests of a Serve config (``serve build`` output / serveConfigV2) at max size."""
    out = []
    for app in _list(serve_config.get("applications")):
        for d in _list(_mapping(app).get("deployments")):
            d = _mapping(d)
            opts = _numeric(d.get("ray_actor_options"))
            bundle = {"CPU": opts.get("num_cpus", 1.0)}  # Serve's default is 1 CPU per replica
            if opts.get("num_gpus"):
                bundle["GPU"] = opts["num_gpus"]
            auto = _mapping(d.get("autoscaling_config"))
            count = _int(auto.get("max_replicas", d.get("num_replicas", 1))) or 1
            out.append(Request(f"{_mapping(app).get('name')}/{d.get('name')} replica", bundle, count))
    return tuple(out)


def _validate_serve_config(text: Any, where: str, ray_version: str) -> tuple[list[str], tuple]:
    import yaml

    if not isinstance(text, str):
        return [f"{where}: expected a YAML string (use `|`)"], ()
    try:
        cfg = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        return [f"{where}: not valid YAML: {err}"], ()
    problems = []
    apps = cfg.get("applications") if isinstance(cfg, Mapping) else None
    if not apps:
        return [f"{where}.applications: no Serve applications"], ()
    for i, app in enumerate(_list(apps)):
        at = f"{where}.applications[{i}]"
        if not isinstance(app, Mapping):
            problems.append(f"{at}: expected a mapping")
            continue
        if not re.match(r"^[\w.]+:[\w]+$", str(app.get("import_path", ""))):
            problems.append(f"{at}.import_path: expected 'module.path:app', got {app.get('import_path')!r}")
        if "runtime_env" in app:
            problems += _runtime_env_dict_problems(app["runtime_env"], f"{at}.runtime_env", ray_version)
        for j, d in enumerate(_list(app.get("deployments"))):
            d = _mapping(d)
            if not d.get("name"):
                problems.append(f"{at}.deployments[{j}]: name is missing")
            auto = _mapping(d.get("autoscaling_config"))
            for key in ("max_concurrent_queries", "target_num_ongoing_requests_per_replica"):
                if key in d or key in auto:
                    problems.append(f"{at}.deployments[{j}]: {key!r} was removed from Serve")
            lo, hi = auto.get("min_replicas", 1), auto.get("max_replicas", 1)
            if not (isinstance(lo, int) and isinstance(hi, int)) or lo > hi:
                problems.append(f"{at}.deployments[{j}].autoscaling_config: min_replicas > max_replicas")
    return problems, serve_requests(cfg)


def validate_kuberay(docs: Iterable[Any], *, source: str = "k8s",
                     jobs: Mapping[str, Iterable[Request]] | None = None,
                     ray_version: str | None = None) -> list[str]:
    """Problems with parsed KubeRay manifests (``yaml.safe_load_all`` over the k8s/ files).

    RayCluster: autoscaling on, pinned images = installed Ray, groups' replicas within bounds,
    token auth, and every job of ``jobs`` (default ``JOB_REQUESTS``) placeable at maxReplicas.
    RayJob: ``python -m jobs.<name>`` entrypoint of a known job, remote working_dir + pinned
    solarray in runtimeEnvYAML, cluster torn down afterwards, and that job placeable on its
    ``rayClusterSpec``. RayService: serveConfigV2 parses, and its deployments' ray_actor_options
    at max_replicas fit its ``rayClusterSpec``.
    """
    ray_version = ray_version or installed_ray_version()
    jobs = JOB_REQUESTS if jobs is None else jobs
    problems: list[str] = []
    kinds = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            problems.append(f"{source}[{i}]: expected a Kubernetes object, got {type(doc).__name__}")
            continue
        kind = doc.get("kind")
        name = _mapping(doc.get("metadata")).get("name")
        where = f"{source}: {kind}/{name}"
        kinds.append(kind)
        if doc.get("apiVersion") != "ray.io/v1":
            problems.append(f"{where}: apiVersion {doc.get('apiVersion')!r}, expected 'ray.io/v1'")
        if not name:
            problems.append(f"{where}: metadata.name is missing")
        spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
        if kind == "RayCluster":
            problems += validate_raycluster_spec(spec, f"{where}: spec", ray_version=ray_version,
                                                 jobs=jobs)
        elif kind == "RayJob":
            problems += _validate_rayjob(spec, where, ray_version, jobs)
        elif kind == "RayService":
            sp, requests = _validate_serve_config(spec.get("serveConfigV2"),
                                                  f"{where}: spec.serveConfigV2", ray_version)
            problems += sp
            problems += validate_raycluster_spec(spec.get("rayClusterSpec"),
                                                 f"{where}: spec.rayClusterSpec",
                                                 ray_version=ray_version,
                                                 jobs={"serve": requests} if requests else None)
        else:
            problems.append(f"{where}: unsupported kind {kind!r} (RayCluster, RayJob, RayService)")
    return problems


def _validate_rayjob(spec: Mapping, where: str, ray_version: str,
                     jobs: Mapping[str, Iterable[Request]]) -> list[str]:
    problems = []
    entry = str(spec.get("entrypoint", ""))
    m = re.match(r"^python3? -m jobs\.(?P<job>\w+)\b", entry)
    if not m:
        problems.append(f"{where}: spec.entrypoint: expected 'python -m jobs.<name> …', got {entry!r}")
        job_requests: Mapping = {}
    elif m["job"] not in jobs:
        problems.append(f"{where}: spec.entrypoint: unknown job {m['job']!r} (known: {sorted(jobs)})")
        job_requests = {}
    else:
        job_requests = {m["job"]: jobs[m["job"]]}
    problems += _runtime_env_problems(spec.get("runtimeEnvYAML"), f"{where}: spec.runtimeEnvYAML",
                                      ray_version)
    if "rayClusterSpec" in spec:
        if spec.get("shutdownAfterJobFinishes") is not True:
            problems.append(f"{where}: spec.shutdownAfterJobFinishes: set true so GPU nodes are "
                            "released when the job ends")
        problems += validate_raycluster_spec(spec["rayClusterSpec"], f"{where}: spec.rayClusterSpec",
                                             ray_version=ray_version, jobs=job_requests)
    elif not spec.get("clusterSelector"):
        problems.append(f"{where}: spec needs rayClusterSpec or clusterSelector")
    return problems


@dataclass
class Report:
    """Problems per file, for a command that validates the shipped files."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def validate_repo(root: str | Path = ".") -> Report:
    """Validate ``cluster.yaml`` and every ``k8s/*.yaml`` under ``root``."""
    import yaml

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
