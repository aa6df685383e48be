"""A forecast from full-resolution files: the pieces of ``benchmarks/serve_fullres.py``.

- :func:`rice_time_step`: one time step of the synthetic Sun at 4096² (HMI magnetogram, AIA 193
  and 304 Å level 1) written as RICE tile-compressed FITS, as JSOC exports SDO data (the same
  writer as ``benchmarks/ingest.py``: :func:`write_rice`);
- :func:`decode_parallel`: the floor — the three files' RICE decode, one thread per file, with the
  decoder the service uses (:func:`solarray.data.tiled_fits.decode_rice_rows`), and
  :func:`decode_astropy`, astropy's decode one file after the other (the path before);
- :class:`ServeProcess`: ``solarray serve`` in a subprocess (the command a user runs), stopped
  with SIGTERM; :func:`post_upload` times one upload from the client and reads the service's
  per-stage times (``Server-Timing`` header, and the body's ``timings_s``);

(The ``watch`` arm, the watcher's step for a landed set, lives in the script: the watcher is a
layer above this package.)
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from solarray.core.server_timing import parse_server_timing
from solarray.data import sources
from solarray.data.synthetic import SynthConfig, generate
from solarray.data.tiled_fits import decode_rice_rows

#: The channels the shipped models read.
CHANNELS = ("hmi_m", "aia193", "aia304")
START = "2024-03-01T00:00"  # the synthetic Sun of benchmarks/serve.py and cycle.py (seed 7)


def write_rice(data: np.ndarray, header, path: str | os.PathLike) -> Path:
    """``data`` and ``header`` as a RICE_1 tile-compressed image HDU after an empty primary HDU
    (the layout of JSOC's exports; astropy's default row tiles), written atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")]
                 ).writeto(tmp, overwrite=True)
    os.replace(tmp, path)
    return path


def rice_time_step(work: str | os.PathLike, size: int = 4096, seed: int = 7,
                   channels: Sequence[str] = CHANNELS) -> tuple[list[Path], Path]:
    """``(RICE files, one per channel in ``channels`` order; the synthetic Sun's directory)`` of
    one time step at ``size``², cached in ``work``. The Sun's directory holds its GOES tables
    (``solarray serve --goes`` / ``WatchConfig.goes``)."""
    work = Path(work)
    synth = work / f"synth{size}_seed{seed}"
    if not (synth / "synth.json").exists():
        generate(SynthConfig(start=START, hours=0, size=size, seed=seed, channels=tuple(channels),
                             preview=False), synth)
    out = work / f"rice{size}_seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ch in channels:
        src = sorted((synth / "fits" / ch).glob("*.fits"))[0]
        dst = out / src.name
        if not dst.exists():
            data, header = sources.read_fits(str(src))
            write_rice(data, header, dst)
        paths.append(dst)
    return paths, synth


def _open_decode(raw: bytes, decode: Callable) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(raw), memmap=False) as hdul:
            hdu = next(h for h in hdul if getattr(h, "is_image", False)
                       and h.header.get("NAXIS", 0) >= 2)
            return decode(hdu, raw)


def decode_parallel(raws: Sequence[bytes]) -> list[np.ndarray]:
    """The floor: every file's RICE decode, one thread per file (float arrays ``[H, W]``)."""
    def one(raw: bytes) -> np.ndarray:
        data = _open_decode(raw, decode_rice_rows)
        if data is None:
            raise ValueError("not a row-tiled RICE file: the floor needs the files this "
                             "benchmark writes")
        return data

    with ThreadPoolExecutor(len(raws)) as pool:
        return list(pool.map(one, raws))


def decode_one_thread(raws: Sequence[bytes]) -> list[np.ndarray]:
    """The floor's decoder, one file after the other (how much the threads buy)."""
    return [_open_decode(raw, decode_rice_rows) for raw in raws]


def decode_astropy(raws: Sequence[bytes]) -> list[np.ndarray]:
    """astropy's decode (``hdu.data``), one file after the other: the decode before."""
    return [np.asarray(_open_decode(raw, lambda hdu, _: hdu.data)) for raw in raws]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """``solarray serve`` on 127.0.0.1 in a subprocess, for ``with``: started and ready on
    entry (its output echoed with a prefix), stopped with SIGTERM on exit."""

    def __init__(self, args: Sequence[str], port: int | None = None, timeout_s: float = 300.0,
                 log: Callable[[str], None] = print) -> None:
        self.port = port or free_port()
        self.args = [sys.executable, "-m", "solarray.cli", "serve", "--host", "127.0.0.1",
                     "--port", str(self.port), *args]
        self.timeout_s = timeout_s
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self.lines: list[str] = []

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip()
            self.lines.append(line)
            if line.startswith("solarray serve"):
                self.log(f"  [serve] {line}")
            if "solarray serve: ready" in line:
                self._ready.set()

    def __enter__(self) -> ServeProcess:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + self.timeout_s
        while not self._ready.wait(0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("solarray serve did not start: " +
                                   " | ".join(self.lines[-15:]))
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def post_upload(url: str, body: bytes, content_type: str, timeout_s: float = 300.0
                ) -> dict[str, Any]:
    """POST one upload; ``{"ok", "status", "client_s" (send → whole answer read), "server"
    (Server-Timing stages, s), "body" (the body's timings_s), "error"}``."""
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", content_type)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            payload = resp.read()
            dt = time.perf_counter() - t0
            header = resp.headers.get("Server-Timing") or ""
            return {"ok": resp.status == 200, "status": resp.status, "client_s": dt,
                    "server": parse_server_timing(header),
                    "body": json.loads(payload).get("timings_s", {}), "error": ""}
    except urllib.error.HTTPError as err:
        return {"ok": False, "status": err.code, "client_s": time.perf_counter() - t0,
                "server": {}, "body": {}, "error": err.read()[:300].decode(errors="replace")}


def wait_healthy(url: str, timeout_s: float = 120.0) -> int:
    """Poll ``GET /v1/health`` until it answers (200, or 503 for a degraded service); its status."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


__all__ = ["CHANNELS", "ServeProcess", "decode_astropy", "decode_one_thread", "decode_parallel",
           "free_port",
           "post_upload", "rice_time_step", "wait_healthy", "write_rice"]
