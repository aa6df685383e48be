"""Full-resolution uploads, fast: the row-wise RICE decoder equals astropy bit for bit, the block
mean equals its float64 reference, and the parallel upload path (decode and preprocess in
threads, unused channels not decoded) gives the reference path's sample. No Ray."""

from __future__ import annotations

import asyncio
import io
import json
import warnings

import numpy as np
import pytest
from astropy.io import fits

from solarray.benchmarks import fullres as fr
from solarray.core import channels as chans
from solarray.data import preprocess as pp
from solarray.data import sources
from solarray.data.tiled_fits import decode_rice_rows
from solarray.data.warp import block_mean
from solarray.live.discover import InputSet
from solarray.live.watcher import WatchConfig, Watcher
from solarray.pipeline import inputs
from solarray.pipeline.inputs import InputConfig, InputError, read_upload, sample_from_fits

CHANNELS = ("hmi_m", "aia193", "aia304")


def _image(shape=(96, 80), seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.normal(100.0, 30.0, shape).astype(np.float32)
    img[:6] = np.nan  # whole rows that cannot be quantized (HMI off-disk): lossless GZIP tiles
    img[40, 10:30] = np.nan
    return img


def _compressed(data, header=None, **kw) -> bytes:
    hdu = fits.CompImageHDU(data, header, **{"compression_type": "RICE_1", **kw})
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return buf.getvalue()


def _int32_scaled() -> bytes:
    """An HMI-like integer image: BSCALE 0.1, BLANK for missing pixels."""
    rng = np.random.default_rng(2)
    ints = rng.integers(-30000, 30000, (64, 48)).astype(np.int32)
    ints[0, :5] = -2147483648
    hdu = fits.CompImageHDU(ints, compression_type="RICE_1")
    hdu.header["BSCALE"], hdu.header["BLANK"] = 0.1, -2147483648
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return buf.getvalue()


LAYOUTS = {
    "float32, no dither, NaN rows": lambda: _compressed(_image(), quantize_method=-1),
    "float32, subtractive dither 1": lambda: _compressed(_image(), quantize_method=1,
                                                         dither_seed=7),
    "float32, subtractive dither 2": lambda: _compressed(_image(), quantize_method=2,
                                                         dither_seed=11),
    "float64": lambda: _compressed(_image().astype(np.float64)),
    "int16": lambda: _compressed(np.random.default_rng(3).integers(-100, 3000, (50, 70))
                                 .astype(np.int16)),
    "int32, BSCALE and BLANK": _int32_scaled,
}


def _decode_both(raw: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(raw), memmap=False) as h:
            ref, ref_header = np.asarray(h[1].data), h[1].header.copy()
        with fits.open(io.BytesIO(raw), memmap=False) as h:
            fast = decode_rice_rows(h[1], raw)
            return ref, ref_header, fast, h[1].header.copy()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_rice_rows_decode_bit_for_bit_as_astropy(layout):
    raw = LAYOUTS[layout]()
    ref, ref_header, fast, header = _decode_both(raw)
    assert fast is not None, "a layout the decoder handles fell back to astropy"
    assert fast.dtype == ref.dtype and fast.shape == ref.shape
    np.testing.assert_array_equal(fast, ref)  # NaN where astropy has NaN, every bit else
    assert header == ref_header  # the same BSCALE/BZERO/BLANK bookkeeping
    if "NaN rows" in layout:  # the lossless GZIP rows were exercised
        with fits.open(io.BytesIO(raw), disable_image_compression=True) as h:
            lengths = h[1].data.view(np.ndarray)["COMPRESSED_DATA"][:, 0]
            assert (lengths == 0).any()


@pytest.mark.parametrize("kw", [{"compression_type": "GZIP_1"}, {"tile_shape": (16, 16)}])
def test_other_layouts_fall_back_to_astropy(kw):
    raw = _compressed(_image(), **kw)
    ref, _, fast, _ = _decode_both(raw)
    assert fast is None
    data, _ = read_upload("x.fits", raw, InputConfig(min_pixels=16))
    np.testing.assert_array_equal(data, ref)


def test_broken_rice_files_are_refused_like_astropy():
    raw = LAYOUTS["float32, no dither, NaN rows"]()
    with fits.open(io.BytesIO(raw), memmap=False) as h:
        with pytest.raises(ValueError, match="past the end"):
            decode_rice_rows(h[1], raw[: len(raw) // 2])
    # garbage in the middle of the compressed heap: whatever astropy does, the fast path does
    # (an error, or the same garbage), and an upload becomes an InputError, never a crash
    bad = bytearray(raw)
    mid = len(bad) // 2
    bad[mid:mid + 400] = np.random.default_rng(0).bytes(400)
    bad = bytes(bad)
    try:
        ref = np.asarray(fits.open(io.BytesIO(bad), memmap=False)[1].data)
    except Exception:  # noqa: BLE001
        ref = None
    cfg = InputConfig(min_pixels=16)
    if ref is None:
        with pytest.raises(InputError, match="unreadable FITS"):
            read_upload("bad.fits", bad, cfg)
    else:
        np.testing.assert_array_equal(read_upload("bad.fits", bad, cfg)[0], ref)


def _block_mean_reference(data: np.ndarray, f: int):
    """The previous implementation: both block axes reduced at once, float64."""
    h, w = data.shape[0] // f, data.shape[1] // f
    blocks = data[: h * f, : w * f].reshape(h, f, w, f)
    finite = np.isfinite(blocks)
    if finite.all():
        return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32), None
    count = finite.sum(axis=(1, 3))
    total = np.where(finite, blocks, 0).sum(axis=(1, 3), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (total / count).astype(np.float32)
    return mean, (count / float(f * f)).astype(np.float32)


@pytest.mark.parametrize("f", [2, 3, 7, 8])
@pytest.mark.parametrize("shape", [(256, 256), (250, 243)])
@pytest.mark.parametrize("holes", ["none", "nan disk edge and inf"])
def test_block_mean_equals_float64_reference(f, shape, holes):
    rng = np.random.default_rng(f)
    img = (rng.random(shape, dtype=np.float32) * 1e4 - 100).astype(np.float32)
    if holes != "none":
        yy, xx = np.mgrid[: shape[0], : shape[1]]
        img[np.hypot(yy - shape[0] / 2, xx - shape[1] / 2) > 0.45 * shape[0]] = np.nan
        img[10, 20], img[11, 20] = np.inf, -np.inf
    mean, weight = block_mean(img, f)
    ref_mean, ref_weight = _block_mean_reference(img, f)
    np.testing.assert_array_equal(mean, ref_mean)
    assert (weight is None) == (ref_weight is None)
    if weight is not None:
        np.testing.assert_array_equal(weight, ref_weight)


@pytest.fixture(scope="module")
def rice_step(tmp_path_factory):
    """One synthetic time step at 256², written RICE-compressed as the benchmark writes 4096²
    (plus an AIA 171 file the forecaster does not read)."""
    work = tmp_path_factory.mktemp("rice")
    paths, synth = fr.rice_time_step(work, 256, seed=3, channels=CHANNELS + ("aia171",))
    return paths, synth


def test_upload_fast_path_equals_reference_path(rice_step, monkeypatch):
    """Threads, the row-wise decoder and the faster block mean give the sample of the reference
    path (astropy decode, then ``preprocess``, one file after the other) to float tolerance;
    the file of an unused channel is not decoded."""
    paths, _ = rice_step
    uploads = [(p.name, p.read_bytes()) for p in paths]
    decoded = []

    def counting(hdu, raw):
        decoded.append(chans.channel_from_header(hdu.header))
        return decode_rice_rows(hdu, raw)

    monkeypatch.setattr(inputs, "decode_rice_rows", counting)
    cfg = InputConfig(size=128, accepted=CHANNELS)
    filters = list(warnings.filters)
    s = sample_from_fits(uploads, cfg)
    assert warnings.filters == filters  # the threads leave the process's warning filters alone
    assert sorted(decoded) == sorted(CHANNELS)  # aia171 was read for its header only
    assert s.channels == CHANNELS and "aia171" in " ".join(s.source["warnings"])
    assert set(s.source["timings"]) == {"decode", "preprocess"}

    pcfg = pp.PreprocessConfig(size=128, off_limb="keep")
    for path in paths[:3]:
        data, header = sources.read_fits(str(path))  # astropy's decode
        ch = chans.channel_from_header(header)
        out = pp.preprocess(data, header, ch, pcfg, t_obs=sources.parse_time(header))
        i = s.channels.index(ch)
        assert np.isfinite(s.image[i]).mean() > 0.5
        np.testing.assert_allclose(s.image[i], out.scaled, rtol=1e-6, atol=1e-7)
        if ch == "hmi_m":
            np.testing.assert_allclose(s.b_los, out.data, rtol=1e-6, atol=1e-5)


def test_threads_report_the_first_bad_file_in_upload_order(rice_step):
    paths, _ = rice_step
    uploads = [(p.name, p.read_bytes()) for p in paths[:3]]
    uploads[1] = ("broken.fits", uploads[1][1][:20000])  # truncated mid-header/data
    uploads[2] = ("notes.txt", b"not a FITS file")
    with pytest.raises(InputError) as err:
        sample_from_fits(uploads, InputConfig(size=64, accepted=CHANNELS))
    assert "broken.fits" in str(err.value)


def test_preprocess_errors_come_after_the_sets_checks(rice_step, tmp_path):
    """Files are preprocessed as soon as they are decoded, but the set is judged first: a
    channel that cannot be preprocessed is reported only for an otherwise valid set."""
    paths, _ = rice_step
    data, header = sources.read_fits(str(paths[1]))  # aia193
    nan = fr.write_rice(np.full_like(data, np.nan), header, tmp_path / "nan193.fits")
    uploads = [(p.name, p.read_bytes()) for p in paths[:3]]
    uploads[1] = (nan.name, nan.read_bytes())
    cfg = InputConfig(size=64, accepted=CHANNELS)
    with pytest.raises(InputError, match="wrong channel set"):  # an operator requiring HMI
        sample_from_fits(uploads[1:], InputConfig(size=64, accepted=CHANNELS,
                                                  required=("hmi_m",)))  # not the NaN file's
    with pytest.raises(InputError, match=r"nan193.fits.*NaN-filled"):
        sample_from_fits(uploads, cfg)


def test_watcher_stores_the_stage_times(rice_step, tmp_path, one_torch_thread):
    """``solarray watch``'s step for a landed set records read, decode, preprocess and the cycle
    in the stored forecast."""
    paths, synth = rice_step
    w = Watcher(WatchConfig(input=str(paths[0].parent), store=str(tmp_path / "store"),
                            goes=str(synth), size=64, checkpoint_dir=str(tmp_path / "none")),
                log=lambda m: None)
    t = sources.parse_time(sources.read_header(str(paths[0])))
    files = {chans.channel_from_header(sources.read_header(str(p))): str(p) for p in paths[:3]}
    assert w.forecast_set(InputSet(t_ref=t, grid_time=t, files=files, landed=0.0), w.history())
    timings = json.loads(w.store.forecasts().iloc[-1]["response"])["timings_s"]
    for k in ("read", "decode", "preprocess", "input", "perception", "analysis", "forecast",
              "cycle", "total"):
        assert timings[k] >= 0, k
    assert timings["total"] >= timings["cycle"] + timings["decode"]


def test_upload_parts_keep_bytes_out_of_repr_and_server_timing_round_trips():
    from solarray.core.multipart import encode_multipart
    from solarray.core.server_timing import parse_server_timing, server_timing_header
    from solarray.serve.http import read_form

    blob = np.random.default_rng(0).bytes(300_000)
    body, ctype = encode_multipart([("files", "a.fits", blob), ("files", "b.fits", b"x")])
    from starlette.requests import Request

    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]

    async def receive():
        return messages.pop(0)

    request = Request({"type": "http", "method": "POST",
                       "headers": [(b"content-type", ctype.encode())]}, receive)
    parts = asyncio.run(read_form(request, 2**20))
    assert [p.data for p in parts] == [blob, b"x"] and len(repr(parts)) < 1000
    header = server_timing_header({"decode": 0.25, "cycle": 0.5, "bad name": 1.0, "nan": float("nan")})
    assert parse_server_timing(header) == pytest.approx({"decode": 0.25, "cycle": 0.5})
