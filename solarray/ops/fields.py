"""Reading parsed YAML defensively: the checks never raise on a wrong type, they report it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def as_int(value: Any) -> int:
    """``value`` if it is an integer (not a bool), else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def numeric_resources(resources: Any) -> dict[str, float]:
    """The numeric entries of a resources mapping (``{"CPU": 8, "GPU": 1}``) as floats."""
    if not isinstance(resources, Mapping):
        return {}
    return {str(k): float(v) for k, v in resources.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def as_mapping(value: Any) -> Mapping:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


__all__ = ["as_int", "as_list", "as_mapping", "numeric_resources"]
