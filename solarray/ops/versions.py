"""The Ray and Python versions a deployment file pins: Ray images, and the ray/solarray installs
of setup commands and runtime environments. Clients and cluster must run the same Ray and the same
Python minor version; solarray must be pinned to a tag or commit, never a branch.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

_RAY_IMAGE = re.compile(
    r"^(?:docker\.io/)?rayproject/ray(?:-ml)?:(?P<version>\d+\.\d+\.\d+)"
    r"(?:-py(?P<py>\d+))?(?P<extra>(?:-[a-z0-9]+)*)$")
_GPU_TAG = re.compile(r"-(gpu|cu\d+)\b")
_SOLARRAY_PIN = re.compile(
    r"solarray(?:\[[^\]]*\])?\s*(?:==\s*(?P<version>[\w.]+)|@\s*git\+\S+?@(?P<ref>[\w.\-/]+))")
_RAY_PIP = re.compile(r"\bray(?:\[[^\]]*\])?==(?P<version>[\w.]+)")
_FLOATING_REFS = {"main", "master", "head", "develop", "latest"}


def installed_ray_version() -> str:
    """The Ray version installed here (what the deployment files must pin)."""
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


def check_pin(text: str, where: str, ray_version: str) -> tuple[bool, list[str]]:
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


def runtime_env_problems(env: Any, where: str, ray_version: str) -> list[str]:
    """Problems with a parsed runtime_env mapping: a remote ``working_dir`` (Kubernetes has no
    local checkout) and a pinned solarray among its pip packages."""
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
        ok, p = check_pin(str(entry), f"{where}.pip", ray_version)
        pinned |= ok
        more += p
    if not pinned:
        more.append(f"{where}.pip: no pinned solarray (\"solarray @ git+https://…@<tag>\")")
    return problems + more


__all__ = ["check_pin", "check_ray_image", "installed_ray_version", "python_tag",
           "runtime_env_problems"]
