"""The watcher as a Ray actor: why an actor, not a Serve deployment.

A watcher is one long-running loop that must exist exactly once per input stream: two copies
would race to forecast the same time (the store refuses the second, but the work is wasted), and
nothing calls it over HTTP. A Serve deployment is built for the opposite (request-driven replicas,
scaled by load). A named Ray actor gives the once-only loop, runs where the cluster has room,
survives the shell that started it (``lifetime="detached"``) and is restarted by Ray after a crash
(``max_restarts``); because the watcher keeps its whole state in the store, a restarted actor
resumes where the dead one stopped. Ray re-runs ``__init__`` after a crash but not the ``run``
call the dead actor was in, so an actor started with ``loop=True`` restarts its loop itself when
it finds it was reconstructed.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

import ray

from solarray.live.watcher import WatchConfig, Watcher

ACTOR_PREFIX = "solarray-watch-"


@ray.remote(num_cpus=1, max_restarts=-1, max_concurrency=2)
class WatchActor:
    """Holds one :class:`~solarray.live.watcher.Watcher`; ``run`` loops until ``stop``.
    ``max_concurrency=2``: ``stop``/``status`` are answered while ``run`` loops. ``loop``: the
    actor runs the loop (live watching), so a restarted actor resumes it without being asked."""

    def __init__(self, config: dict[str, Any], loop: bool = False) -> None:
        self.watcher = Watcher(WatchConfig(**config), log=lambda s: print(f"[watch] {s}",
                                                                           flush=True))
        self._stop = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._issued = 0
        self.last: dict[str, Any] = {}
        self.resumed = loop and ray.get_runtime_context().was_current_actor_reconstructed
        if self.resumed:
            print("[watch] the watcher actor was restarted after a crash; resuming the loop "
                  "from the store", flush=True)
            self._start_loop()

    def _start_loop(self) -> threading.Thread:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._loop, name="watch-loop",
                                                daemon=True)
                self._thread.start()
            return self._thread

    def _loop(self) -> None:
        self._issued = self.watcher.run(lambda: self._stop)

    def poll_once(self) -> dict[str, Any]:
        self.last = self.watcher.poll_once()
        return self.last

    def run(self) -> int:
        """Run the loop (or join the one already running) until ``stop``; forecasts issued."""
        self._start_loop().join()
        return self._issued

    def stop(self) -> None:
        self._stop = True

    def was_resumed(self) -> bool:
        return bool(self.resumed)

    def pid(self) -> int:
        return os.getpid()

    def channels(self) -> tuple[str, ...]:
        return self.watcher.channels


def start_actor(config: WatchConfig, name: str, detached: bool = False, loop: bool = False):
    """Create (or, detached, reuse) the named watcher actor for ``config``; ``loop``: it will run
    the watching loop (a restarted actor then resumes it by itself)."""
    options: dict[str, Any] = {"name": ACTOR_PREFIX + name, "get_if_exists": True}
    if detached:
        options["lifetime"] = "detached"
    return WatchActor.options(**options).remote(dataclasses.asdict(config), loop)


def stop_actor(name: str) -> bool:
    """Stop and remove the named watcher; ``False`` when none runs."""
    try:
        actor = ray.get_actor(ACTOR_PREFIX + name)
    except ValueError:
        return False
    ray.kill(actor, no_restart=True)
    return True


__all__ = ["ACTOR_PREFIX", "WatchActor", "start_actor", "stop_actor"]
