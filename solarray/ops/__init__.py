"""Operations: offline checks of the deployment files (no cloud or Kubernetes API is reached).

* :mod:`solarray.ops.cluster_config` — ``cluster.yaml`` (Ray autoscaler, VM clusters);
* :mod:`solarray.ops.kuberay` — the KubeRay manifests in ``k8s/``;
* :mod:`solarray.ops.serve_config` — Serve configs (``serve/config.yaml``, serveConfigV2);
* :mod:`solarray.ops.placement` — what each job asks Ray for (``JOB_REQUESTS``) and whether it fits;
* :mod:`solarray.ops.versions` — Ray images and pinned installs;
* :mod:`solarray.ops.repo` — every shipped file of a checkout at once.
"""
