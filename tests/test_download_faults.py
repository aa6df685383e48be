"""``solarray download`` under network faults, with the network layer replaced (never called).

Two stand-ins: the socket layer under the real sunpy Fido (no name resolution, a refused or
timed-out connection), and a Fido with parfive's file handling (``FakeFido``) for transfers that
fail or arrive cut off. Each fault must end in one stderr line naming the source and what to do,
keep the complete files, and leave no cut-off file that a re-run would take as complete.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import socket
import types

import numpy as np
import pytest

from solarray import cli
from solarray.data import download as dl
from solarray.data import download_faults as faults

START, END = "2024-01-01T00:00", "2024-01-01T00:30"
ADVICE_VSO = ("run the same command again later (files complete on disk are skipped, only the "
              "missing ones are fetched), or try one VSO provider (--provider NAME, e.g. JSOC or "
              "SDAC) or JSOC directly (--jsoc-email ADDRESS, an address registered for JSOC "
              "exports)")


def fits_bytes(seed: int = 0, size: int = 32) -> bytes:
    """A small complete FITS image (float32 [size, size]): 2 header-and-data blocks or more."""
    from astropy.io import fits

    buf = io.BytesIO()
    data = np.random.default_rng(seed).normal(size=(size, size)).astype(np.float32)
    fits.PrimaryHDU(data).writeto(buf)
    return buf.getvalue()


def jsoc_bytes() -> bytes:
    """A JSOC-style export: an empty primary HDU, then the Rice-compressed image."""
    from astropy.io import fits

    buf = io.BytesIO()
    data = np.random.default_rng(1).integers(0, 4000, size=(64, 64)).astype(np.int16)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data)]).writeto(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# The network layer replaced: sockets under the real sunpy Fido
# --------------------------------------------------------------------------------------------------


def _no_dns(*args, **kwargs):
    raise socket.gaierror(-3, "Temporary failure in name resolution")


def _loopback(host, port, *args, **kwargs):
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]


def _refused(self, *args, **kwargs):
    raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")


def _timed_out(self, *args, **kwargs):
    raise TimeoutError("timed out")


@pytest.fixture
def network(monkeypatch):
    """``network(mode)``: ``"none"`` (no name resolves), ``"refused"`` or ``"timeout"`` (every
    connection fails so); nothing ever leaves the machine."""

    def set_mode(mode: str) -> None:
        monkeypatch.setattr(socket, "getaddrinfo", _no_dns if mode == "none" else _loopback)
        monkeypatch.setattr(socket.socket, "connect", _timed_out if mode == "timeout" else _refused)

    return set_mode


def _vso_hosts() -> str:
    from sunpy.net.vso.vso import DEFAULT_URL_PORT

    return ", ".join(sorted({faults.host_of(m["url"]) for m in DEFAULT_URL_PORT}))


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(["download", "--start", START, "--end", END, *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_no_network_vso_ends_in_one_line_and_keeps_files(tmp_path, network, capsys):
    """The issue's case: no network ended in sunpy's ConnectionError traceback, exit 1."""
    network("none")
    done = tmp_path / "raw" / "aia171" / "done.fits"
    done.parent.mkdir(parents=True)
    done.write_bytes(fits_bytes())
    rc, _, err = _run(capsys, "--channels", "aia171,aia193", "--out", str(tmp_path / "raw"))
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err and "Warning" not in err
    assert err == (
        f"solarray download: error: VSO (hosts {_vso_hosts()}) could not be reached (no network, "
        "or its name did not resolve) during the aia171 search (ConnectionError: No online VSO "
        "mirrors could be found.; last: <urlopen error [Errno -3] Temporary failure in name "
        f"resolution>); 1 complete file kept in {tmp_path / 'raw'}; {ADVICE_VSO}\n")
    assert done.read_bytes() == fits_bytes()


def test_no_network_stderr_is_one_line_in_a_fresh_process(tmp_path):
    """As a user sees it: Python's own warning display on, no pytest capture in between (sunpy
    warns once per VSO mirror it cannot reach; those must not reach stderr)."""
    import subprocess
    import sys

    code = (
        "import socket, sys\n"
        "def no_dns(*a, **k): raise socket.gaierror(-3, 'Temporary failure in name resolution')\n"
        "def refuse(self, *a, **k): raise ConnectionRefusedError(111, 'Connection refused')\n"
        "socket.getaddrinfo, socket.socket.connect = no_dns, refuse\n"
        "from solarray import cli\n"
        f"sys.exit(cli.main(['download', '--start', '{START}', '--end', '{END}', "
        f"'--channels', 'aia171', '--out', {str(tmp_path / 'raw')!r}]))\n")
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("SOLARRAY_DEBUG", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("solarray download: error: VSO (hosts ")
    assert "could not be reached (no network, or its name did not resolve)" in done.stderr


@pytest.mark.parametrize("mode, said, why", [
    ("refused", faults.REFUSED, "<urlopen error [Errno 111] Connection refused>"),
    ("timeout", faults.TIMEOUT, "<urlopen error timed out>"),
])
def test_refused_or_timed_out_vso_mirror_is_named(tmp_path, network, capsys, mode, said, why):
    network(mode)
    rc, _, err = _run(capsys, "--channels", "aia193", "--out", str(tmp_path / "raw"),
                      "--provider", "SDAC")
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(f"solarray download: error: VSO (provider SDAC; hosts {_vso_hosts()}) "
                          f"{said} during the aia193 search (")
    assert f"last: {why})" in err
    assert "another VSO provider (--provider NAME, or none to let the VSO choose)" in err


def test_no_network_jsoc_names_drms_and_the_way_back(tmp_path, network, capsys):
    network("none")
    rc, _, err = _run(capsys, "--channels", "aia171", "--out", str(tmp_path / "raw"),
                      "--jsoc-email", "me@example.org")
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(
        "solarray download: error: JSOC (drms export for me@example.org) could not be reached "
        "(no network, or its name did not resolve) during the aia171 search (URLError: <urlopen "
        "error [Errno -3] Temporary failure in name resolution>); 0 complete files kept in ")
    assert err.rstrip().endswith(
        "check that me@example.org is registered for JSOC exports "
        "(http://jsoc.stanford.edu/ajax/register_email.html), or drop --jsoc-email to download "
        "through the VSO")


# --------------------------------------------------------------------------------------------------
# Transfers: a Fido stand-in with parfive's file handling
# --------------------------------------------------------------------------------------------------


class FakeTable(list):
    """One client's search result: record names, a ``Provider`` column, search errors."""

    colnames = ("Provider",)

    def __init__(self, names, provider="JSOC", errors=()):
        super().__init__(names)
        self.provider, self.errors = provider, list(errors)

    def __getitem__(self, key):
        return [self.provider] * len(self) if key == "Provider" else super().__getitem__(key)


class FakeResponse(list):
    """Fido's ``UnifiedResponse``: a list of per-client tables."""

    @property
    def file_num(self) -> int:
        return sum(len(t) for t in self)


class FakeFido:
    """sunpy's Fido with parfive's file handling and no network.

    ``records[channel]`` are the file names a search finds. ``fetch`` skips a file that exists
    (``overwrite=False``, as parfive does), else "transfers" it — counted in ``transfers`` — and
    ``fail[name]`` says how that goes wrong: ``"short"`` (the server closes cleanly half-way:
    half the bytes, reported as fetched) or an exception / HTTP response (parfive removes the
    partial file and reports the error with the URL)."""

    host = "jsoc.example.org"

    def __init__(self, records, fail=None, search_errors=None):
        self.records, self.fail = records, dict(fail or {})
        self.search_errors = search_errors or {}
        self.transfers: list[str] = []

    def search(self, *attrs):
        import astropy.units as u
        from sunpy.net import attrs as a

        wl = next(x for x in attrs if isinstance(x, a.Wavelength))
        channel = f"aia{int(wl.min.to_value(u.AA))}"
        return FakeResponse([FakeTable(self.records.get(channel, []),
                                       errors=self.search_errors.get(channel, ()))])

    def fetch(self, found, path, max_conn, overwrite=False):
        import parfive

        results = parfive.Results()
        for table in found:
            for name in table:
                target, url = path.format(file=name), f"https://{self.host}/export/{name}"
                if os.path.exists(target) and not overwrite:
                    results.append(path=target, url=url)
                    continue
                self.transfers.append(name)
                data, fault = fits_bytes(seed=len(name)), self.fail.get(name)
                with open(target, "wb") as f:
                    f.write(data if fault is None else data[: len(data) // 2])
                if fault is None or fault == "short":
                    results.append(path=target, url=url)
                else:
                    os.remove(target)
                    results.add_error(target, url, fault)
        return results


def _cfg(tmp_path, channels=("aia171",), **kw) -> dl.DownloadConfig:
    return dl.DownloadConfig(start=START, end=END, channels=channels, cadence_minutes=12,
                                  out_dir=str(tmp_path / "raw"), **kw)


def _complete(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if faults.fits_truncation(str(p)) is None)


def test_rerun_fetches_only_what_is_missing_and_refetches_a_cut_off_file(tmp_path):
    folder = tmp_path / "raw" / "aia171"
    folder.mkdir(parents=True)
    (folder / "a.fits").write_bytes(fits_bytes(seed=6))  # complete, from an earlier run
    (folder / "bb.fits").write_bytes(fits_bytes(seed=7)[:3000])  # left by a killed run
    before = os.stat(folder / "a.fits")
    fake = FakeFido({"aia171": ["a.fits", "bb.fits", "ccc.fits"]})
    logged: list[str] = []
    got = dl.download(_cfg(tmp_path), fido=fake, log=logged.append)
    assert fake.transfers == ["bb.fits", "ccc.fits"]  # a.fits complete: not transferred again
    assert sorted(os.path.basename(p) for p in got["aia171"]) == ["a.fits", "bb.fits", "ccc.fits"]
    assert _complete(folder) == ["a.fits", "bb.fits", "ccc.fits"]
    assert os.stat(folder / "a.fits").st_mtime_ns == before.st_mtime_ns
    assert any("removed bb.fits (HDU 0 has 120 of its 4096 data bytes)" in s for s in logged)
    assert "[download] aia171: 2 fetched, 1 already complete on disk" in logged

    again = FakeFido({"aia171": ["a.fits", "bb.fits", "ccc.fits"]})
    dl.download(_cfg(tmp_path), fido=again, log=lambda s: None)
    assert again.transfers == []
    (folder / "bb.fits").unlink()
    dl.download(_cfg(tmp_path), fido=again, log=lambda s: None)
    assert again.transfers == ["bb.fits"]


def test_file_cut_off_mid_transfer_is_not_kept(tmp_path, monkeypatch, capsys):
    """The server closes cleanly half-way: parfive reports the file as fetched; it is not."""
    import sunpy.net

    fake = FakeFido({"aia171": ["a.fits", "bb.fits", "ccc.fits"]}, fail={"bb.fits": "short"})
    monkeypatch.setattr(sunpy.net, "Fido", fake)
    out = tmp_path / "raw"
    rc, stdout, err = _run(capsys, "--channels", "aia171", "--out", str(out))
    assert rc == 2
    assert err == (
        "solarray download: error: VSO (provider JSOC) cut the transfer off: aia171 1 of 3 files "
        "failed (first: bb.fits: HDU 0 has 1440 of its 4096 data bytes); 2 complete files kept "
        f"in {out}, 1 cut-off file removed; {ADVICE_VSO}\n")
    assert sorted(p.name for p in (out / "aia171").iterdir()) == ["a.fits", "ccc.fits"]
    assert "[download] aia171: 2 fetched, 0 already complete on disk, 1 failed" in stdout

    fake.fail.clear()
    fake.transfers.clear()
    rc, stdout, err = _run(capsys, "--channels", "aia171", "--out", str(out))
    assert (rc, err) == (0, "")
    assert fake.transfers == ["bb.fits"]
    assert _complete(out / "aia171") == ["a.fits", "bb.fits", "ccc.fits"]
    assert "3 files in" in stdout


def _refused_connect():
    import aiohttp

    key = types.SimpleNamespace(host="jsoc.example.org", port=443, ssl=True)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connect call failed"))


def _timeout():
    import aiohttp

    return aiohttp.ConnectionTimeoutError("Connection timeout to host https://jsoc.example.org")


def _payload():
    import aiohttp

    return aiohttp.ClientPayloadError("Response payload is not completed")


@pytest.mark.parametrize("fault, said, detail", [
    (_refused_connect, faults.REFUSED,
     "ClientConnectorError: Cannot connect to host jsoc.example.org:443 ssl:default [Connect call "
     "failed]"),
    (_timeout, faults.TIMEOUT,
     "ConnectionTimeoutError: Connection timeout to host https://jsoc.example.org"),
    (_payload, faults.CUT_OFF, "ClientPayloadError: Response payload is not completed"),
    (lambda: types.SimpleNamespace(status=503, reason="Service Unavailable"), faults.SERVER,
     "HTTP 503 Service Unavailable"),
])
def test_failed_transfer_names_source_host_and_fault_after_every_channel(
        tmp_path, fault, said, detail):
    fake = FakeFido({"aia171": ["a.fits", "bb.fits"], "aia193": ["x.fits", "yy.fits"]},
                    fail={"bb.fits": fault()})
    with pytest.raises(faults.DownloadError) as caught:
        dl.download(_cfg(tmp_path, ("aia171", "aia193")), fido=fake, log=lambda s: None)
    assert str(caught.value) == (
        f"VSO (provider JSOC; host jsoc.example.org) {said}: aia171 1 of 2 files failed (first: "
        f"{detail}); 3 complete files kept in {tmp_path / 'raw'}; {ADVICE_VSO}")
    assert fake.transfers == ["a.fits", "bb.fits", "x.fits", "yy.fits"]  # aia193 still tried
    assert _complete(tmp_path / "raw" / "aia171") == ["a.fits"]
    assert _complete(tmp_path / "raw" / "aia193") == ["x.fits", "yy.fits"]


def test_vso_search_errors_with_no_records_fail_the_channel(tmp_path):
    fake = FakeFido({"aia193": ["x.fits"]}, search_errors={"aia171": [TimeoutError("timed out")]})
    with pytest.raises(faults.DownloadError, match=r"^VSO \(provider JSOC\) timed out: aia171 "
                       r"search failed \(first: TimeoutError: timed out\); 1 complete file kept"):
        dl.download(_cfg(tmp_path, ("aia171", "aia193")), fido=fake, log=lambda s: None)


def test_unregistered_jsoc_address_and_local_disk_faults(tmp_path, monkeypatch, capsys):
    import sunpy.net

    class Unregistered(FakeFido):
        def search(self, *attrs):
            raise ValueError("Email address is invalid or not registered")

    monkeypatch.setattr(sunpy.net, "Fido", Unregistered({}))
    rc, _, err = _run(capsys, "--channels", "aia171", "--out", str(tmp_path / "raw"),
                      "--jsoc-email", "me@example.org")
    assert rc == 2 and err.startswith(
        "solarray download: error: JSOC (drms export for me@example.org) answered with an error "
        "during the aia171 search (ValueError: Email address is invalid or not registered); ")
    # a full disk under parfive is the machine's fault: the usual one line, not "the network"
    full = FakeFido({"aia171": ["a.fits"]},
                    fail={"a.fits": OSError(errno.ENOSPC, "No space left on device")})
    monkeypatch.setattr(sunpy.net, "Fido", full)
    rc, _, err = _run(capsys, "--channels", "aia171", "--out", str(tmp_path / "raw"))
    assert rc == 2 and "no space left on the device" in err and "VSO" not in err
    # a bug stays a bug (traceback), even inside a network call
    monkeypatch.setattr(sunpy.net, "Fido", types.SimpleNamespace(search=lambda *a: 1 / 0))
    with pytest.raises(ZeroDivisionError):
        cli.main(["download", "--start", START, "--end", END, "--channels", "aia171",
                  "--out", str(tmp_path / "raw")])


def test_provider_goes_to_the_vso_query_only(tmp_path):
    from sunpy.net import attrs as a

    (_, q), = dl.build_queries(_cfg(tmp_path, provider="SDAC"))
    assert [x.value for x in q if isinstance(x, a.Provider)] == ["SDAC"]
    (_, q), = dl.build_queries(_cfg(tmp_path))
    assert not any(isinstance(x, a.Provider) for x in q)
    with pytest.raises(ValueError, match="provider"):
        dl.build_queries(_cfg(tmp_path, provider="SDAC", jsoc_email="me@example.org"))
    rc = cli.main(["download", "--start", START, "--end", END, "--out", str(tmp_path / "raw"),
                   "--provider", "SDAC", "--jsoc-email", "me@example.org"])
    assert rc == 2


# --------------------------------------------------------------------------------------------------
# Telling a cut-off FITS file from its headers; naming the fault
# --------------------------------------------------------------------------------------------------


def test_fits_truncation_finds_every_cut(tmp_path):
    def check(data: bytes, name: str = "f.fits") -> str | None:
        p = tmp_path / name
        p.write_bytes(data)
        return faults.fits_truncation(str(p))

    whole = fits_bytes()  # 1 header block + 4096 data bytes (2 blocks)
    assert len(whole) == 3 * 2880 and check(whole) is None
    assert check(b"") == "empty file"
    assert check(whole[:1000]) == "header of HDU 0 cut off (no END card)"
    assert check(whole[:2880]) == "HDU 0 has 0 of its 4096 data bytes"
    assert check(whole[:5000]) == "HDU 0 has 2120 of its 4096 data bytes"
    assert check(whole[:2880 + 4096]) is None  # data all there, only the last padding missing
    jsoc = jsoc_bytes()
    assert check(jsoc) is None
    assert check(jsoc[:2880]) == "only an empty header, no data"  # cut before the image HDU
    assert check(jsoc[:2880 + 1000]) == "header of HDU 1 cut off (no END card)"
    assert check(jsoc[:-3000]).startswith("HDU 1 has ")  # the compressed tiles cut off
    assert check(gzip.compress(whole), "f.fits.gz") is None
    assert check(gzip.compress(whole)[:-40], "f.fits.gz") == "the gzip stream stops early"
    assert check(b"<html>503 Service Unavailable</html>", "g.fits") is None  # not FITS: not ours


def test_fault_kind_sorts_network_faults_from_bugs_and_local_errors():
    import urllib.error

    import drms
    import requests

    kind = faults.fault_kind
    assert kind(ConnectionError("No online VSO mirrors could be found.")) == faults.NO_NETWORK
    assert kind(ConnectionError("No online VSO mirrors could be found."),
                ["Connection to http://x failed with error <urlopen error timed out>."]) \
        == faults.TIMEOUT
    assert kind(urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))) \
        == faults.NO_NETWORK
    assert kind(urllib.error.URLError(ConnectionRefusedError(111, "refused"))) == faults.REFUSED
    assert kind(requests.exceptions.ConnectTimeout("connect timeout")) == faults.TIMEOUT
    assert kind(ConnectionResetError(104, "Connection reset by peer")) == faults.CUT_OFF
    assert kind(drms.DrmsExportError("export failed")) == faults.SERVER
    wrapped = RuntimeError("fetch failed")
    wrapped.__cause__ = TimeoutError()
    assert kind(wrapped) == faults.TIMEOUT
    assert kind(ValueError("a bug")) is None
    assert kind(OSError(errno.ENOSPC, "No space left on device")) is None
    assert kind(ZeroDivisionError()) is None
