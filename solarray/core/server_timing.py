"""The ``Server-Timing`` HTTP header (W3C): a service's stage durations, for its clients.

The forecaster answers every forecast with one (``upload_parse;dur=12.3, decode;dur=…``, in
milliseconds), including the stages its JSON body cannot time itself (building and encoding
that body); the benchmarks read it back with :func:`parse_server_timing`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def server_timing_header(seconds: Mapping[str, float]) -> str:
    """The header value for stage durations in seconds (``name;dur=<ms>``); entries that are not
    finite numbers, or whose names are not header tokens, are left out."""
    return ", ".join(f"{name};dur={1000.0 * v:.1f}" for name, v in seconds.items()
                     if isinstance(v, int | float) and not isinstance(v, bool)
                     and math.isfinite(v) and _NAME.fullmatch(name))


def parse_server_timing(value: str) -> dict[str, float]:
    """Stage durations in seconds from a ``Server-Timing`` header value (entries without a
    ``dur`` are left out)."""
    out = {}
    for item in value.split(","):
        name, _, params = item.strip().partition(";")
        dur = re.search(r"(?:^|;)\s*dur=([0-9.eE+-]+)", params)
        if name and dur:
            out[name] = float(dur.group(1)) / 1000.0
    return out


__all__ = ["parse_server_timing", "server_timing_header"]
