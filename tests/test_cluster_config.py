"""Offline validation of cluster.yaml and k8s/*.yaml (solarray.ops), and proof the checks bite."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import ray
import yaml

from solarray.ops import cluster_config, kuberay, placement, serve_config
from solarray.ops.placement import NodeType, Request
from solarray.ops.repo import validate_repo

REPO = Path(__file__).resolve().parents[1]
K8S_FILES = sorted((REPO / "k8s").glob("*.yaml"))


def _other_ray_version() -> str:
    major, minor, patch = ray.__version__.split(".")[:3]
    return f"{major}.{int(minor) - 1}.{patch}"


@pytest.fixture(scope="module")
def cluster_cfg() -> dict:
    return yaml.safe_load((REPO / "cluster.yaml").read_text())


@pytest.fixture(scope="module")
def k8s_docs() -> dict[str, dict]:
    docs = {}
    for path in K8S_FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs[doc["kind"]] = doc
    return docs


# --------------------------------------------------------------------------------------------
# The shipped files
# --------------------------------------------------------------------------------------------


def test_shipped_cluster_yaml_is_valid(cluster_cfg):
    assert cluster_config.validate_cluster_config(cluster_cfg) == []
    # The shape the issue asks for: a CPU head, spot CPU workers, GPU workers.
    types = cluster_cfg["available_node_types"]
    assert types[cluster_cfg["head_node_type"]]["resources"].get("GPU", 0) == 0
    gpu = [n for n, t in types.items() if t["resources"].get("GPU")]
    spot = [n for n, t in types.items()
            if t["node_config"].get("InstanceMarketOptions", {}).get("MarketType") == "spot"]
    assert gpu and spot and not set(gpu) & {cluster_cfg["head_node_type"]}


@pytest.mark.parametrize("path", K8S_FILES, ids=[p.name for p in K8S_FILES])
def test_shipped_kuberay_manifests_are_valid(path):
    docs = list(yaml.safe_load_all(path.read_text()))
    assert kuberay.validate_kuberay(docs, source=f"k8s/{path.name}") == []


def test_kuberay_covers_cluster_job_and_service(k8s_docs):
    assert {"RayCluster", "RayJob", "RayService"} <= set(k8s_docs)
    assert k8s_docs["RayJob"]["spec"]["entrypoint"].startswith("python -m jobs.pretrain")


def test_validate_repo_reports_every_shipped_file():
    report = validate_repo(REPO)
    assert report.ok, report.problems
    assert {Path(p).name for p in report.problems} == {"cluster.yaml", *(p.name for p in K8S_FILES)}


def _serve_import_paths(k8s_docs) -> dict[str, str]:
    service = yaml.safe_load(k8s_docs["RayService"]["spec"]["serveConfigV2"])
    config = yaml.safe_load((REPO / "serve" / "config.yaml").read_text())
    return {"serve/config.yaml": config["applications"][0]["import_path"],
            "k8s/rayservice-forecaster.yaml": service["applications"][0]["import_path"]}


def test_serve_import_paths_work_from_an_installed_package(k8s_docs):
    """The Serve import path names a module inside the solarray package (shipped in the wheel),
    not the checkout's top-level serve/, and the top-level serve.app names the same app."""
    import serve.app

    for source, import_path in _serve_import_paths(k8s_docs).items():
        module, _, attr = import_path.partition(":")
        assert module.split(".")[0] == "solarray", f"{source}: {import_path} needs a checkout"
        spec = importlib.util.find_spec(module)
        assert spec is not None and Path(spec.origin).is_relative_to(REPO / "solarray"), source
        assert getattr(importlib.import_module(module), attr) is serve.app.app, source


def test_shipped_serve_configs_name_every_checkpoint(k8s_docs):
    """Both shipped Serve configs name a checkpoint (placeholder path/URI, never null) for every
    model role, fail the deployment when one cannot be read, and do not allow untrained models,
    so a deploy without real checkpoints fails visibly instead of serving untrained models."""
    from solarray.core.checkpoints import ROLE_FILES
    from solarray.serve.deployments import FPNetDeployment, IAToolsDeployment, SPNetDeployment

    service = yaml.safe_load(k8s_docs["RayService"]["spec"]["serveConfigV2"])
    config = yaml.safe_load((REPO / "serve" / "config.yaml").read_text())
    for source, cfg in (("serve/config.yaml", config), ("k8s/rayservice-forecaster.yaml", service)):
        deployments = {d["name"]: d for d in cfg["applications"][0]["deployments"]}
        for cls in (SPNetDeployment, IAToolsDeployment, FPNetDeployment):
            uc = deployments[cls.name]["user_config"]
            for role in cls.func_or_class.roles:
                path = uc["checkpoints"][role]
                assert isinstance(path, str) and path.endswith(ROLE_FILES[role]), (source, role)
            assert uc["fail_replica_on_load_error"] is True, (source, cls.name)
            assert uc["allow_untrained"] is False, (source, cls.name)


def test_rayjob_entrypoint_parses_with_the_job_module(k8s_docs):
    """Once jobs/<name>.py exists, the manifest's arguments must be ones it accepts."""
    argv = shlex.split(k8s_docs["RayJob"]["spec"]["entrypoint"])
    module = argv[2]
    path = REPO / (module.replace(".", "/") + ".py")
    if not path.exists():
        pytest.skip(f"{module} is not written yet")
    spec = importlib.util.spec_from_file_location(module, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build_parser().parse_args(argv[3:])


# --------------------------------------------------------------------------------------------
# Broken variants of cluster.yaml must fail
# --------------------------------------------------------------------------------------------


def _set(path: str, value) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *parents, last = path.split(".")
        node = cfg
        for key in parents:
            node = node[key]
        node[last] = value
    return mutate


def _delete(path: str) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *parents, last = path.split(".")
        node = cfg
        for key in parents:
            node = node[key]
        del node[last]
    return mutate


CLUSTER_BREAKS = {
    "legacy head_node": (_set("head_node", {"InstanceType": "m5.large"}), "legacy key 'head_node'"),
    "legacy worker_nodes": (_set("worker_nodes", {}), "legacy key 'worker_nodes'"),
    "legacy top-level min_workers": (_set("min_workers", 1), "legacy key 'min_workers'"),
    "legacy target_utilization_fraction": (_set("target_utilization_fraction", 0.8),
                                           "legacy key 'target_utilization_fraction'"),
    "legacy initial_workers": (_set("initial_workers", 1), "legacy key 'initial_workers'"),
    "typo in a top-level key": (_set("idle_timeout_minute", 5), "unknown top-level key"),
    "head_node_type names a missing type": (_set("head_node_type", "ray.head.default"),
                                            "head_node_type 'ray.head.default' is not one of"),
    "GPU worker without GPU resources": (_set("available_node_types.gpu_train.resources",
                                              {"CPU": 48}), "declares no GPU"),
    "GPU resources on a CPU instance": (
        _set("available_node_types.cpu_ingest.resources", {"CPU": 16, "GPU": 1}), "has no GPU"),
    "more CPUs than the instance has": (
        _set("available_node_types.cpu_ingest.resources", {"CPU": 64}), "m5.4xlarge has 16"),
    "no explicit CPU": (_set("available_node_types.cpu_ingest.resources", {}),
                        "must declare CPU explicitly"),
    "Ray image version differs from installed Ray": (
        _set("docker.image", f"rayproject/ray:{_other_ray_version()}-py311"),
        f"runs Ray {_other_ray_version()} but Ray {ray.__version__} is installed"),
    "floating image tag": (_set("docker.image", "rayproject/ray:latest"), "not a pinned"),
    "image without Python pin": (_set("docker.image", f"rayproject/ray:{ray.__version__}"),
                                 "does not pin the Python version"),
    "GPU worker on a CPU image": (
        _set("available_node_types.gpu_train.docker.worker_image",
             f"rayproject/ray:{ray.__version__}-py311"), "GPU nodes need a CUDA image"),
    "solarray from a branch": (
        _set("setup_commands", ['pip install "solarray @ git+https://github.com/x/solarray.git@main"']),
        "branch 'main'"),
    "no solarray install": (_set("setup_commands", ["pip install boto3"]), "no pinned solarray"),
    "setup installs another Ray": (
        _set("head_setup_commands", [f'pip install "ray[default]=={_other_ray_version()}"']),
        f"installs ray=={_other_ray_version()}"),
    "min_workers above max_workers": (_set("available_node_types.cpu_ingest.min_workers", 9),
                                      "min_workers 9 > max_workers 8"),
    "global max below sum of min": (
        lambda c: [_set("max_workers", 2)(c), _set("available_node_types.cpu_ingest.min_workers", 2)(c),
                   _set("available_node_types.gpu_train.min_workers", 1)(c)],
        "max_workers 2 < sum of min_workers 3"),
    "global max_workers 0 leaves no room for jobs": (_set("max_workers", 0),
                                                     "job 'ingest' cannot be placed"),
    "no GPU nodes left for pretraining": (
        _set("available_node_types.gpu_train.max_workers", 0),
        "job 'pretrain' cannot be placed"),
    "GPU nodes too small for a Train worker": (
        _set("available_node_types.gpu_train.resources", {"CPU": 4, "GPU": 4}),
        "job 'pretrain' cannot be placed"),
    "missing provider region": (_delete("provider.region"), "provider.region is missing"),
    "missing auth": (_delete("auth"), "missing required key 'auth'"),
}


@pytest.mark.parametrize("name", list(CLUSTER_BREAKS))
def test_broken_cluster_yaml_fails(cluster_cfg, name):
    mutate, expected = CLUSTER_BREAKS[name]
    cfg = copy.deepcopy(cluster_cfg)
    mutate(cfg)
    problems = cluster_config.validate_cluster_config(cfg)
    assert any(expected in p for p in problems), f"{name}: expected {expected!r} in {problems}"


@pytest.mark.parametrize("garbage", [None, [], "text", {"available_node_types": ["head"]},
                                     {"available_node_types": {"x": {"resources": {"CPU": "many"},
                                                                     "min_workers": "one"}},
                                      "head_node_type": ["x"], "docker": "img"}])
def test_garbage_gives_problems_not_exceptions(garbage):
    problems = cluster_config.validate_cluster_config(garbage)
    assert problems and all(isinstance(p, str) for p in problems)
    problems = kuberay.validate_kuberay([garbage, {"kind": "RayCluster", "spec": garbage}])
    assert problems and all(isinstance(p, str) for p in problems)


# --------------------------------------------------------------------------------------------
# Broken variants of the KubeRay manifests must fail
# --------------------------------------------------------------------------------------------

KUBERAY_BREAKS = {
    "wrong apiVersion": ("RayCluster", _set("apiVersion", "ray.io/v1alpha1"), "expected 'ray.io/v1'"),
    "rayVersion differs from installed Ray": (
        "RayCluster", _set("spec.rayVersion", _other_ray_version()), "≠ installed Ray"),
    "autoscaling off": ("RayCluster", _set("spec.enableInTreeAutoscaling", False),
                        "enableInTreeAutoscaling: must be true"),
    "no token auth": ("RayCluster", _delete("spec.authOptions"), "authOptions.mode"),
    "head image version differs": (
        "RayCluster",
        lambda d: d["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0].update(
            image=f"rayproject/ray:{_other_ray_version()}-py311"),
        f"runs Ray {_other_ray_version()}"),
    "replicas above maxReplicas": (
        "RayCluster", lambda d: d["spec"]["workerGroupSpecs"][0].update(replicas=99),
        "minReplicas ≤ replicas ≤ maxReplicas"),
    "GPU group on a CPU image": (
        "RayCluster",
        lambda d: d["spec"]["workerGroupSpecs"][1]["template"]["spec"]["containers"][0].update(
            image=f"rayproject/ray:{ray.__version__}-py311"),
        "GPU nodes need a CUDA image"),
    "GPU group without GPUs": (
        "RayCluster",
        lambda d: [d["spec"]["workerGroupSpecs"][1]["template"]["spec"]["containers"][0]
                   ["resources"][k].pop("nvidia.com/gpu") for k in ("limits", "requests")],
        "job 'pretrain' cannot be placed"),
    "RayJob for an unknown job": ("RayJob", _set("spec.entrypoint", "python -m jobs.nope --x 1"),
                                  "unknown job 'nope'"),
    "RayJob entrypoint not a job module": ("RayJob", _set("spec.entrypoint", "python train.py"),
                                           "expected 'python -m jobs.<name>"),
    "RayJob with a local working_dir": (
        "RayJob", _set("spec.runtimeEnvYAML",
                       'working_dir: "."\npip: ["solarray @ git+https://x/solarray.git@v0.1.0"]\n'),
        "is a local path"),
    "RayJob without solarray pin": ("RayJob", _set("spec.runtimeEnvYAML", "pip: [solarray]\n"),
                                    "no pinned solarray"),
    "RayJob keeps its cluster": ("RayJob", _set("spec.shutdownAfterJobFinishes", False),
                                 "shutdownAfterJobFinishes"),
    "RayJob cluster too small": (
        "RayJob", lambda d: d["spec"]["rayClusterSpec"]["workerGroupSpecs"][0].update(maxReplicas=1,
                                                                                       minReplicas=0,
                                                                                       replicas=0)
        or d["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
        ["resources"]["limits"].update({"nvidia.com/gpu": "2"}),
        "job 'pretrain' cannot be placed"),
    "RayService asks for more GPU than its cluster has": (
        "RayService",
        lambda d: d["spec"].update(serveConfigV2=d["spec"]["serveConfigV2"].replace(
            "num_gpus: 0.5", "num_gpus: 2")),
        "job 'serve' cannot be placed"),
    "RayService with a removed Serve option": (
        "RayService",
        lambda d: d["spec"].update(serveConfigV2=d["spec"]["serveConfigV2"].replace(
            "target_ongoing_requests: 4", "target_num_ongoing_requests_per_replica: 4")),
        "was removed from Serve"),
    "RayService serveConfigV2 not a string": ("RayService", _set("spec.serveConfigV2", {"a": 1}),
                                              "expected a YAML string"),
}


@pytest.mark.parametrize("name", list(KUBERAY_BREAKS))
def test_broken_kuberay_fails(k8s_docs, name):
    kind, mutate, expected = KUBERAY_BREAKS[name]
    doc = copy.deepcopy(k8s_docs[kind])
    mutate(doc)
    problems = kuberay.validate_kuberay([doc])
    assert any(expected in p for p in problems), f"{name}: expected {expected!r} in {problems}"


# --------------------------------------------------------------------------------------------
# The building blocks, against hand-computed answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,value", [("500m", 0.5), ("4", 4.0), (2, 2.0), ("1.5", 1.5),
                                        ("abc", None), (None, None), ("16Gi", None)])
def test_k8s_quantity(text, value):
    assert kuberay.k8s_quantity(text) == value


def test_unplaced_packs_bundles_per_node():
    gpu_node = NodeType("gpu", {"CPU": 48, "GPU": 4}, max_workers=2)
    # 8 workers of {8 CPU, 1 GPU}: 4 per node by GPU (CPU 32 ≤ 48) → exactly fits on 2 nodes.
    assert placement.unplaced([gpu_node], [Request("w", {"CPU": 8, "GPU": 1}, 8)]) == []
    assert placement.unplaced([gpu_node], [Request("w", {"CPU": 8, "GPU": 1}, 9)]) == \
        ["1 of 9 × w {'CPU': 8, 'GPU': 1}"]
    # CPU-bound: {16 CPU, 1 GPU} → 3 per node (48 CPUs), so 7 bundles leave 1 over.
    assert placement.unplaced([gpu_node], [Request("w", {"CPU": 16, "GPU": 1}, 7)]) == \
        ["1 of 7 × w {'CPU': 16, 'GPU': 1}"]
    # Fractional GPUs share a device; a 0-CPU head hosts nothing.
    head = NodeType("head", {"CPU": 0}, head=True)
    small = NodeType("g", {"CPU": 4, "GPU": 1}, max_workers=1)
    assert placement.unplaced([head, small], [Request("r", {"CPU": 1, "GPU": 0.5}, 2)]) == []
    assert placement.unplaced([head, small], [Request("r", {"CPU": 1, "GPU": 0.5}, 3)]) != []
    assert placement.unplaced([head], [Request("a", {"CPU": 1})]) == ["1 of 1 × a {'CPU': 1}"]


def test_group_resources_follow_kuberay_rules():
    def group(params, limits):
        return {"rayStartParams": params,
                "template": {"spec": {"containers": [{"resources": {"limits": limits}}]}}}

    assert kuberay.group_resources(group({}, {"cpu": "15", "nvidia.com/gpu": "4"})) == \
        {"CPU": 15.0, "GPU": 4.0}
    assert kuberay.group_resources(group({"num-cpus": "0"}, {"cpu": "4"})) == {"CPU": 0.0}
    assert kuberay.group_resources(group({}, {"cpu": "2500m"})) == {"CPU": 2.0}


def test_serve_requests_use_max_replicas_and_serve_defaults():
    cfg = {"applications": [{"name": "a", "deployments": [
        {"name": "X", "ray_actor_options": {"num_cpus": 0.5, "num_gpus": 0.25},
         "autoscaling_config": {"min_replicas": 1, "max_replicas": 3}},
        {"name": "Y", "num_replicas": 2}]}]}
    assert serve_config.serve_requests(cfg) == (Request("a/X replica", {"CPU": 0.5, "GPU": 0.25}, 3),
                                          Request("a/Y replica", {"CPU": 1.0}, 2))


def test_every_rayjob_entrypoint_has_a_request_entry(k8s_docs):
    job = shlex.split(k8s_docs["RayJob"]["spec"]["entrypoint"])[2].split(".")[1]
    assert job in placement.JOB_REQUESTS
