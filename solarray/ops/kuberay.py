"""Offline checks of the KubeRay manifests in ``k8s/`` (RayCluster, RayJob, RayService).

Nothing here reaches a Kubernetes API server: the checks read the parsed YAML and compare it with
the installed Ray, with :data:`~solarray.ops.placement.JOB_REQUESTS` and with the Serve config a
RayService embeds. :func:`validate_kuberay` returns a list of problems, one human-readable line
each, and never raises on bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from solarray.ops.fields import as_int, as_mapping
from solarray.ops.placement import JOB_REQUESTS, NodeType, Request, check_jobs
from solarray.ops.serve_config import validate_serve_config
from solarray.ops.versions import check_ray_image, installed_ray_version, runtime_env_problems

_QUANTITY = re.compile(r"^(?P<num>\d+(?:\.\d+)?)(?P<unit>m?)$")


def k8s_quantity(value: Any) -> float | None:
    """Kubernetes CPU/GPU quantity → number (``"500m"`` → 0.5, ``4`` → 4.0); None if invalid."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _QUANTITY.match(str(value).strip()) if value is not None else None
    if not m:
        return None
    return float(m["num"]) / (1000.0 if m["unit"] == "m" else 1.0)


def _ray_container(pod_spec: Mapping) -> Mapping | None:
    containers = pod_spec.get("containers")
    # KubeRay treats the first container as the Ray container.
    for c in containers if isinstance(containers, list) else ():
        return c if isinstance(c, Mapping) else None
    return None


def group_resources(group: Mapping) -> dict[str, float]:
    """What Ray advertises on one pod of a head or worker group, as KubeRay computes it.

    ``rayStartParams`` num-cpus / num-gpus win; otherwise the Ray container's CPU limit (request
    if no limit, floored: Ray counts whole CPUs) and its ``nvidia.com/gpu`` limit.
    """
    params = as_mapping(group.get("rayStartParams"))
    container = _ray_container(as_mapping(as_mapping(group.get("template")).get("spec"))) or {}
    limits = as_mapping(as_mapping(container.get("resources")).get("limits"))
    requests = as_mapping(as_mapping(container.get("resources")).get("requests"))
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
    out = [NodeType("head", group_resources(as_mapping(spec.get("headGroupSpec"))), head=True)]
    groups = spec.get("workerGroupSpecs")
    for g in groups if isinstance(groups, list) else ():
        if isinstance(g, Mapping):
            out.append(NodeType(str(g.get("groupName")), group_resources(g),
                                as_int(g.get("minReplicas")), as_int(g.get("maxReplicas"))))
    return out


def _check_group_image(group: Mapping, at: str, ray_version: str) -> list[str]:
    container = _ray_container(as_mapping(as_mapping(group.get("template")).get("spec")))
    if container is None:
        return [f"{at}.template.spec.containers: no Ray container"]
    limits = as_mapping(as_mapping(container.get("resources")).get("limits"))
    gpu = bool(k8s_quantity(limits.get("nvidia.com/gpu")) or
               k8s_quantity(as_mapping(group.get("rayStartParams")).get("num-gpus", 0)))
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
    opts = as_mapping(spec.get("autoscalerOptions"))
    if opts.get("upscalingMode", "Default") not in ("Default", "Aggressive", "Conservative"):
        problems.append(f"{where}.autoscalerOptions.upscalingMode: {opts.get('upscalingMode')!r}")
    if as_mapping(spec.get("authOptions")).get("mode") != "token":
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
        problems += check_jobs(raycluster_node_types(spec), jobs, where)
    return problems


def _runtime_env_yaml_problems(text: Any, where: str, ray_version: str) -> list[str]:
    if not isinstance(text, str):
        return [f"{where}: expected a YAML string (use `|`), got {type(text).__name__}"]
    try:
        env = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        return [f"{where}: not valid YAML: {err}"]
    return runtime_env_problems(env, where, ray_version)


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
        name = as_mapping(doc.get("metadata")).get("name")
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
            sp, requests = validate_serve_config(spec.get("serveConfigV2"),
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
    problems += _runtime_env_yaml_problems(spec.get("runtimeEnvYAML"),
                                           f"{where}: spec.runtimeEnvYAML", ray_version)
    if "rayClusterSpec" in spec:
        if spec.get("shutdownAfterJobFinishes") is not True:
            problems.append(f"{where}: spec.shutdownAfterJobFinishes: set true so GPU nodes are "
                            "released when the job ends")
        problems += validate_raycluster_spec(spec["rayClusterSpec"], f"{where}: spec.rayClusterSpec",
                                             ray_version=ray_version, jobs=job_requests)
    elif not spec.get("clusterSelector"):
        problems.append(f"{where}: spec needs rayClusterSpec or clusterSelector")
    return problems


__all__ = ["group_resources", "k8s_quantity", "raycluster_node_types", "validate_kuberay",
           "validate_raycluster_spec"]
