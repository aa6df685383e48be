"""Faults and load for the forecaster service, on loopback only.

Black-box HTTP against a running Serve app (``base`` = ``http://127.0.0.1:PORT``):

* :func:`fuzz_cases` — bad uploads built from one good time step: truncated FITS, wrong BITPIX,
  NaN images, huge NAXIS headers, a gzip bomb, non-FITS bytes, duplicate channels, mismatched
  times and malformed requests; each must be refused with a 4xx and a reason.
* :func:`burst` — a bounded burst (``in_flight`` at a time) of good and bad requests: statuses,
  latencies, 5xx count.
* :func:`kill_replica_under_load` — ``ray.kill`` one replica actor of a deployment while a bounded
  load runs; the failures, which requests they were, and how long until Serve runs the full
  replica count again and the service answers.

Used by ``tests/test_serve_faults.py`` and ``benchmarks/reliability.py``. No server code here:
the caller deploys the app (``solarray.serve.app.build_app``) and passes names.
"""

from __future__ import annotations

import concurrent.futures as cf
import gzip
import io
import json
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from solarray.core.multipart import encode_multipart as _encode

BOUNDARY = "solarray-reliability-5c3a"


def encode_multipart(files: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """The checks' multipart bodies (their own boundary, octet-stream parts)."""
    return _encode(files, BOUNDARY, "application/octet-stream")


@dataclass
class Reply:
    """One HTTP exchange: ``status`` (0: no HTTP answer), reason text, timing."""

    status: int
    error: str
    started: float  # perf_counter at send
    seconds: float
    label: str = ""
    expect: str = "2xx"  # "2xx" or "4xx"

    @property
    def ok(self) -> bool:
        return self.status // 100 == int(self.expect[0])


def request(base: str, path: str, data: bytes | None = None, ctype: str | None = None,
            timeout: float = 120.0) -> tuple[int, str, bytes]:
    """``(status, content type, body)``; status 0 with the exception text when no HTTP answer
    came (connection refused / reset, timeout)."""
    req = urllib.request.Request(base + path, data=data)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("content-type", ""), err.read()
    except (OSError, urllib.error.URLError) as err:
        return 0, "", f"{type(err).__name__}: {err}".encode()


def reason(body: bytes) -> str:
    """The ``error`` text of a JSON error body ('' when there is none)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return ""
    if isinstance(obj, dict):
        return str(obj.get("error") or obj.get("detail") or "")
    return ""


def send(base: str, payload: tuple[bytes, str], label: str = "", expect: str = "2xx",
         path: str = "/v1/forecast", timeout: float = 120.0) -> Reply:
    t0 = time.perf_counter()
    status, _, body = request(base, path, payload[0], payload[1], timeout)
    err = "" if status == 200 else (reason(body) or body[:300].decode("utf-8", "replace"))
    return Reply(status, err, t0, time.perf_counter() - t0, label, expect)


# ---------------------------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------------------------


def _set_card(raw: bytes, key: str, value: str) -> bytes:
    """``raw`` FITS bytes with header card ``key`` set to ``value`` (in place, 80-char card);
    the card is added before END when absent."""
    header_end = raw.index(b"END" + b" " * 77)
    card = f"{key:<8}= {value:>20}".ljust(80).encode()
    for i in range(0, header_end, 80):
        if raw[i:i + 8] == f"{key:<8}".encode():
            return raw[:i] + card + raw[i + 80:]
    return _insert_card(raw, header_end, card)


def _insert_card(raw: bytes, header_end: int, card: bytes) -> bytes:
    # Header blocks are 2880 bytes: the END card moves down one card into the blank padding.
    head = raw[:header_end] + card + b"END" + b" " * 77
    n_blocks = -(-len(head) // 2880)
    data_start = -(-(header_end + 80) // 2880) * 2880
    return head.ljust(n_blocks * 2880, b" ") + raw[data_start:]


def _fits(data: np.ndarray, header: Any, drop: Sequence[str] = (), **cards: Any) -> bytes:
    """FITS bytes of ``data`` with a copy of ``header`` (an astropy Header), ``cards`` set
    (``DATE_OBS`` means ``DATE-OBS``) and ``drop`` removed."""
    from astropy.io import fits

    hdr = header.copy()
    for k in drop:
        hdr.remove(k, ignore_missing=True, remove_all=True)
    for k, v in cards.items():
        hdr[k.replace("DATE_OBS", "DATE-OBS")] = v
    buf = io.BytesIO()
    fits.PrimaryHDU(data, hdr).writeto(buf, output_verify="silentfix")
    return buf.getvalue()


def _read(raw: bytes) -> tuple[np.ndarray, Any]:
    from astropy.io import fits

    with fits.open(io.BytesIO(raw)) as hdul:
        hdu = hdul[0] if hdul[0].data is not None else hdul[1]
        return np.asarray(hdu.data), hdu.header.copy()


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A gzip stream of a FITS-looking header followed by zeros: tiny compressed, huge inflated."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    chunk = bytes(2**20)
    out = [comp.compress(b"SIMPLE  =                    T" + b" " * 50)]
    for _ in range(decompressed_bytes // len(chunk)):
        out.append(comp.compress(chunk))
    out.append(comp.flush())
    return b"".join(out)


@dataclass
class Case:
    """One bad request: its name, what it tries, and the (body, content type) to POST."""

    name: str
    what: str
    payload: tuple[bytes, str] = field(repr=False)


def fuzz_cases(good: Mapping[str, tuple[str, bytes]], bomb_bytes: int = 64 * 2**20,
               request_limit: int = 3 * 2**20, max_parts: int = 16) -> list[Case]:
    """Bad ``POST /v1/forecast`` requests built from ``good`` (channel → (filename, FITS bytes),
    one co-temporal time step including ``hmi_m``). ``bomb_bytes`` should exceed the service's
    per-file limit; ``request_limit`` is its body limit."""
    chans = list(good)
    first = chans[0]
    name0, raw0 = good[first]
    data0, hdr0 = _read(raw0)

    def replace(ch: str, filename: str, raw: bytes) -> tuple[bytes, str]:
        files = [("files", filename if c == ch else good[c][0], raw if c == ch else good[c][1])
                 for c in chans]
        return encode_multipart(files)

    nan_img = _fits(np.full(data0.shape, np.nan, np.float32), hdr0)
    half_nan = data0.astype(np.float32).copy()
    half_nan[: int(0.8 * half_nan.shape[0])] = np.nan
    later = _fits(data0, hdr0, DATE_OBS="2024-06-01T12:00:00")
    cases = [
        Case("truncated_fits_header", "file cut inside its header",
             replace(first, name0, raw0[:1000])),
        Case("truncated_fits_data", "file cut in the middle of its data",
             replace(first, name0, raw0[: len(raw0) // 2])),
        Case("bitpix_invalid", "BITPIX = 12 (not a FITS type)",
             replace(first, name0, _set_card(raw0, "BITPIX", "12"))),
        Case("bitpix_mismatch", "BITPIX = -64 on 32-bit data (data shorter than declared)",
             replace(first, name0, _set_card(raw0, "BITPIX", "-64"))),
        Case("nan_image", f"{first} all NaN", replace(first, "nan.fits", nan_img)),
        Case("mostly_nan_image", f"{first} 80 % NaN rows",
             replace(first, "nan80.fits", _fits(half_nan, hdr0))),
        Case("nan_magnetogram", "hmi_m all NaN",
             replace("hmi_m", "nan_hmi.fits",
                     _fits(np.full(_read(good["hmi_m"][1])[0].shape, np.nan, np.float32),
                           _read(good["hmi_m"][1])[1]))),
        Case("huge_naxis", "NAXIS1 = NAXIS2 = 10^9 on a small file",
             replace(first, name0, _set_card(_set_card(raw0, "NAXIS1", "1000000000"),
                                             "NAXIS2", "1000000000"))),
        Case("huge_naxis_count", "NAXIS = 999 (999-D image declared)",
             replace(first, name0, _set_card(raw0, "NAXIS", "999"))),
        Case("naxis_3d", "a 3-D cube",
             replace(first, "cube.fits", _fits(np.stack([data0, data0]), hdr0))),
        Case("zero_size", "NAXIS1 = 0", replace(first, name0, _set_card(raw0, "NAXIS1", "0"))),
        Case("gzip_bomb", f"gzip stream inflating to {bomb_bytes // 2**20} MiB",
             replace(first, "bomb.fits.gz", gzip_bomb(bomb_bytes))),
        Case("corrupt_gzip", "gzip magic then garbage",
             replace(first, "bad.fits.gz", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)),
        Case("gzip_of_text", "valid gzip of plain text",
             replace(first, "text.fits.gz", gzip.compress(b"not a fits file\n" * 100))),
        Case("random_bytes", "4 KiB of random bytes",
             replace(first, "noise.fits", np.random.default_rng(0).bytes(4096))),
        Case("png_bytes", "a PNG named .fits",
             replace(first, "img.fits", b"\x89PNG\r\n\x1a\n" + bytes(2000))),
        Case("empty_file", "zero-byte file", replace(first, "empty.fits", b"")),
        Case("duplicate_channel", f"{first} uploaded twice",
             encode_multipart([("files", good[c][0], good[c][1]) for c in chans]
                              + [("files", "copy_" + name0, raw0)])),
        Case("mismatched_times", f"{first} five months after the others",
             replace(first, "late.fits", later)),
        Case("missing_date", f"{first} without DATE-OBS",
             replace(first, "nodate.fits",
                     _fits(data0, hdr0, drop=("DATE-OBS", "T_OBS", "DATE_OBS")))),
        # (no "no hmi_m file" case: a time step missing a channel is not a bad request, it is
        # forecast degraded, solarray.pipeline.degraded)
        Case("no_files_field", "parts under another field name",
             encode_multipart([("upload", good[c][0], good[c][1]) for c in chans])),
        Case("too_many_parts", f"{max_parts + 8} parts",
             encode_multipart([("files", f"f{i}.fits", b"x") for i in range(max_parts + 8)])),
        # three times the limit: far more than the socket buffers hold, so the 413 must come
        # after the server has read (and discarded) the body, not as a connection reset
        Case("body_over_limit", f"a body of {3 * request_limit // 2**20} MiB",
             encode_multipart([("files", "big.fits", b"SIMPLE  =" + bytes(3 * request_limit))])),
        Case("truncated_multipart", "multipart body without its closing boundary",
             (encode_multipart([("files", name0, raw0)])[0][:-40],
              encode_multipart([])[1])),
        Case("no_boundary", "multipart content type without boundary",
             (b"--x\r\n\r\n", "multipart/form-data")),
        Case("wrong_content_type", "text/plain body", (b"hello", "text/plain")),
        Case("bad_json", "JSON that is not a dataset request",
             (b'{"nonsense": [1, 2', "application/json")),
        Case("path_escape", "dataset outside the allowed roots",
             (b'{"dataset": "/etc", "sample_id": "x"}', "application/json")),
    ]
    return cases


def run_fuzz(base: str, cases: Sequence[Case], timeout: float = 60.0) -> list[dict[str, Any]]:
    """POST each case once; one dict per case: name, what, status, reason, seconds."""
    replies = [send(base, c.payload, c.name, "4xx", timeout=timeout) for c in cases]
    return [{"name": c.name, "what": c.what, "status": r.status, "reason": r.error[:300],
             "seconds": round(r.seconds, 3)} for c, r in zip(cases, replies, strict=True)]


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------


def burst(base: str, jobs: Sequence[tuple[str, str, tuple[bytes, str]]], in_flight: int,
          timeout: float = 120.0) -> list[Reply]:
    """Send ``jobs`` (label, expected class "2xx"/"4xx", payload) with at most ``in_flight``
    outstanding; the replies in job order."""
    with cf.ThreadPoolExecutor(in_flight) as pool:
        return list(pool.map(lambda j: send(base, j[2], j[0], j[1], timeout=timeout), jobs))


def summarise_replies(replies: Sequence[Reply], wall_s: float | None = None) -> dict[str, Any]:
    """Counts by status class, unexpected answers, latency percentiles (s)."""
    lat = np.array([r.seconds for r in replies]) if replies else np.zeros(0)
    out = {"requests": len(replies),
           "by_status": {str(s): sum(r.status == s for r in replies)
                         for s in sorted({r.status for r in replies})},
           "5xx": sum(r.status >= 500 for r in replies),
           "no_answer": sum(r.status == 0 for r in replies),
           "unexpected": [asdict(r) for r in replies if not r.ok][:10],
           "n_unexpected": sum(not r.ok for r in replies),
           "p50_s": float(np.percentile(lat, 50)) if len(lat) else None,
           "p95_s": float(np.percentile(lat, 95)) if len(lat) else None}
    if wall_s is not None:
        out["wall_s"] = wall_s
        out["requests_per_s"] = len(replies) / wall_s if wall_s > 0 else None
    return out


# ---------------------------------------------------------------------------------------------
# A replica killed under load
# ---------------------------------------------------------------------------------------------


def replica_actor_names(app: str, deployment: str) -> list[str]:
    """Names of the live replica actors of ``app``/``deployment`` (Serve names them
    ``SERVE_REPLICA::<app>#<deployment>#<id>`` in the ``serve`` namespace)."""
    import ray

    prefix = f"SERVE_REPLICA::{app}#{deployment}#"
    return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                  if a.get("namespace") == "serve" and a["name"].startswith(prefix))


def running_replicas(app: str, deployment: str) -> int:
    """Replicas Serve reports RUNNING for ``app``/``deployment``."""
    from ray import serve

    try:
        st = serve.status().applications[app].deployments[deployment]
    except KeyError:
        return 0
    states = {str(getattr(k, "value", k)): v for k, v in st.replica_states.items()}
    return int(states.get("RUNNING", 0))


def kill_replica_under_load(base: str, app: str, deployment: str,
                            payload: tuple[bytes, str], requests: int, in_flight: int,
                            kill_after: int, replicas: int, recover_timeout_s: float = 60.0,
                            poll_s: float = 0.1) -> dict[str, Any]:
    """Run ``requests`` good forecasts, ``in_flight`` at a time; once ``kill_after`` have
    completed, ``ray.kill`` one replica of ``deployment`` (it has ``replicas``). Returns the
    replies, which failed, the kill time, and the seconds until (a) a forecast sent after the
    kill succeeded and (b) Serve runs ``replicas`` RUNNING replicas again with a new actor."""
    import ray

    before = replica_actor_names(app, deployment)
    if len(before) < 2:
        raise RuntimeError(f"{deployment}: {len(before)} replica actor(s); need ≥ 2 so the "
                           "service keeps answering while one restarts")
    victim = before[0]
    done = threading.Event()
    killed: dict[str, float] = {}
    completed = [0]
    lock = threading.Lock()

    def one(i: int) -> Reply:
        r = send(base, payload, f"load-{i}")
        with lock:
            completed[0] += 1
            if completed[0] == kill_after and not done.is_set():
                ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
                killed["t"] = time.perf_counter()
                done.set()
        return r

    with cf.ThreadPoolExecutor(in_flight) as pool:
        replies = list(pool.map(one, range(requests)))
    if "t" not in killed:
        raise RuntimeError("the load finished before the kill point")
    t_kill = killed["t"]
    # (a) the service answers: first success among requests sent after the kill, else probe
    after = [r for r in replies if r.started >= t_kill and r.status == 200]
    first_ok = min((r.started + r.seconds - t_kill for r in after), default=None)
    probe_t = None
    if first_ok is None:
        while time.perf_counter() - t_kill < recover_timeout_s:
            if send(base, payload, "probe").status == 200:
                probe_t = time.perf_counter() - t_kill
                break
            time.sleep(poll_s)
    # (b) Serve restored the replica count with a new actor
    restored = None
    while time.perf_counter() - t_kill < recover_timeout_s:
        names = replica_actor_names(app, deployment)
        if (victim not in names and len(names) >= replicas
                and running_replicas(app, deployment) >= replicas):
            restored = time.perf_counter() - t_kill
            break
        time.sleep(poll_s)
    failed = [r for r in replies if r.status != 200]
    in_flight_at_kill = [r for r in replies if r.started < t_kill < r.started + r.seconds]
    return {
        "replies": replies, "victim": victim, "t_kill": t_kill,
        "failed": failed, "in_flight_at_kill": len(in_flight_at_kill),
        "failed_not_in_flight": [r for r in failed if r not in in_flight_at_kill],
        "answer_again_s": first_ok if first_ok is not None else probe_t,
        "replica_restored_s": restored,
        "replicas_after": replica_actor_names(app, deployment),
    }


def report(result: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON part of :func:`kill_replica_under_load`'s result."""
    return {"requests": len(result["replies"]), "failed": len(result["failed"]),
            "failed_statuses": sorted({r.status for r in result["failed"]}),
            "failed_reasons": sorted({r.error[:160] for r in result["failed"]})[:5],
            "in_flight_at_kill": result["in_flight_at_kill"],
            "failed_not_in_flight": len(result["failed_not_in_flight"]),
            "answer_again_s": result["answer_again_s"],
            "replica_restored_s": result["replica_restored_s"]}


__all__ = ["Case", "Reply", "burst", "encode_multipart", "fuzz_cases", "gzip_bomb",
           "kill_replica_under_load", "reason", "replica_actor_names", "report", "request",
           "run_fuzz", "running_replicas", "send", "summarise_replies"]
