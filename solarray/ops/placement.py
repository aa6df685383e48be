"""What the solarray jobs ask Ray for, and whether a cluster at its maximum size can place it.

``JOB_REQUESTS`` lists each job's resource bundles at its cluster defaults; :func:`unplaced` packs
them onto a cluster's node types (first-fit decreasing) and names what does not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


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


def check_jobs(node_types: list[NodeType], jobs: Mapping[str, Iterable[Request]], where: str
               ) -> list[str]:
    """One problem line per job in ``jobs`` with bundles that do not fit on ``node_types``."""
    problems = []
    for job, requests in jobs.items():
        for line in unplaced(node_types, requests):
            problems.append(f"{where}: job {job!r} cannot be placed at maximum cluster size: {line} "
                            f"do not fit on {describe_nodes(node_types)}")
    return problems


def describe_nodes(node_types: list[NodeType]) -> str:
    """``"2 × gpu {'CPU': 8.0, 'GPU': 1.0}, ..."``: a cluster at its maximum size, for messages."""
    return ", ".join(f"{nt.max_count} × {nt.name} {dict(nt.resources)}" for nt in node_types)


__all__ = ["JOB_REQUESTS", "NodeType", "Request", "check_jobs", "describe_nodes", "unplaced"]
