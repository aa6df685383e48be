"""The watcher as a Ray actor: why an actor, not a Serve deployment.

A watcher is one long-running loop that must exist exactly once per input stream: two copies
would race to forecast the same time (the store refuses the second, but the work is wasted), and
nothing calls it over HTTP. A Serve deployment is built for the opposite (request-driven replicas,
scaled by load). A named Ray actor gives the once-only loop, runs where the cluster has room,
survives the shell that started it (``lifetime="detached"``) and is restarted by Ray after a crash
(``max_restarts``); because the watcher keeps its whole state in the store, a restarted actor
resumes where the dead one stopped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ray

from solarray.live.watcher import WatchConfig, Watcher

ACTOR_PREFIX = "solarray-watch-"


@ray.remote(num_cpus=1, max_restarts=-1, max_concurrency=2)
class WatchActor:
    """Holds one :class:`~solarray.live.watcher.Watcher`; ``run`` loops until ``stop``.
    ``max_concurrency=2``: ``stop``/``status`` are answered while ``run`` loops."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.watcher = Watcher(WatchConfig(**config), log=lambda s: print(f"[watch] {s}",
                                                                           flush=True))
        self._stop = False
        self.last: dict[str, Any] = {}

    def poll_once(self) -> dict[str, Any]:
        self.last = self.watcher.poll_once()
        return self.last

    def run(self) -> int:
        self._stop = False
        return self.watcher.run(lambda: self._stop)

    def stop(self) -> None:
        self._stop = True

    def channels(self) -> tuple[str, ...]:
        return self.watcher.channels


def start_actor(config: WatchConfig, name: str, detached: bool = False):
    """Create (or, detached, reuse) the named watcher actor for ``config``."""
    options: dict[str, Any] = {"name": ACTOR_PREFIX + name, "get_if_exists": True}
    if detached:
        options["lifetime"] = "detached"
    return WatchActor.options(**options).remote(dataclasses.asdict(config))


def stop_actor(name: str) -> bool:
    """Stop and remove the named watcher; ``False`` when none runs."""
    try:
        actor = ray.get_actor(ACTOR_PREFIX + name)
    except ValueError:
        return False
    ray.kill(actor, no_restart=True)
    return True


__all__ = ["ACTOR_PREFIX", "WatchActor", "start_actor", "stop_actor"]
