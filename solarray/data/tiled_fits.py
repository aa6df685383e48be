"""Decoding a RICE tile-compressed FITS image (as JSOC exports SDO level-1 data) without astropy's
per-tile Python work, so that several channels decode in parallel threads.

astropy decodes a ``CompImageHDU`` tile by tile in Python: for a 4096² image compressed row by
row that is 4096 tiles, each wrapped in codec objects, byte-order conversions and a dequantization
call — about 60 % of the decode time is Python holding the GIL, so threads barely overlap.
:func:`decode_rice_rows` keeps only what must be per tile (cfitsio's RICE decoder, which releases
the GIL, on a slice of the uploaded bytes) and does the rest per block of rows with numpy. It
handles the layouts SDO files use — RICE_1, one tile per row, integer images (AIA, HMI) and
quantized float images (with or without dithering, lossless GZIP rows for tiles that did not
quantize, ``ZBLANK`` → NaN) — and returns ``None`` for anything else, so the caller falls back to
astropy. The result is the array astropy's ``hdu.data`` gives, bit for bit (same C decoder, same
arithmetic; ``tests/test_fullres_inputs.py`` checks each layout), including astropy's own
``BSCALE``/``BZERO``/``BLANK`` handling.
"""

from __future__ import annotations

import gzip

import numpy as np

#: Rows dequantized per numpy call: small enough for the float64 intermediate to stay in cache.
ROWS_PER_BLOCK = 64

try:  # astropy's C codecs and the pieces of its tile decoder this mirrors (astropy 6–8)
    from astropy.io.fits.hdu.base import BITPIX2DTYPE
    from astropy.io.fits.hdu.compressed._compression import (
        decompress_rice_1_c,
        unquantize_double_c,
        unquantize_float_c,
    )
    from astropy.io.fits.hdu.compressed._quantization import DITHER_METHODS
    from astropy.io.fits.hdu.compressed._tiled_compression import _header_to_settings
except ImportError:  # pragma: no cover - another astropy: the caller uses hdu.data
    decompress_rice_1_c = None


def _layout(hdu):
    """``(table header, table data, image dtype)`` when ``hdu`` is a layout this module decodes,
    else ``None``."""
    bintable = getattr(hdu, "_bintable", None)
    if decompress_rice_1_c is None or bintable is None or not hasattr(hdu, "_scale_data") \
            or not hasattr(hdu, "_update_header_scale_info") \
            or getattr(hdu, "_do_not_scale_image_data", True):
        return None
    th = bintable.header
    if th.get("ZCMPTYPE") not in ("RICE_1", "RICE_ONE") or th.get("ZNAXIS") != 2:
        return None
    nx, ny = th.get("ZNAXIS1"), th.get("ZNAXIS2")
    if th.get("ZTILE1", nx) != nx or th.get("ZTILE2", 1) != 1 or th.get("ZBITPIX") not in \
            BITPIX2DTYPE or not (isinstance(nx, int) and isinstance(ny, int) and nx > 0
                                 and ny > 0):
        return None
    table = bintable.data
    names = (table.dtype.names or ()) if table is not None else ()
    if table is None or len(table) != ny or "COMPRESSED_DATA" not in names \
            or "UNCOMPRESSED_DATA" in names:
        return None
    if not bintable.columns["COMPRESSED_DATA"].format.removeprefix("1")[1:].startswith("B"):
        return None  # the RICE stream is stored as bytes
    quantized = "ZSCALE" in names
    if quantized != (th["ZBITPIX"] < 0) or (quantized and "ZZERO" not in names):
        return None
    if not quantized and "ZBLANK" in names:
        return None  # per-tile integer blanks: rare, left to astropy
    return th, table, np.dtype(BITPIX2DTYPE[th["ZBITPIX"]])


def decode_rice_rows(hdu, raw: bytes) -> np.ndarray | None:
    """The image of the ``CompImageHDU`` ``hdu`` read from the FITS bytes ``raw``, as
    ``hdu.data`` would return it (and with the same header updates), or ``None`` when the
    layout is not one this decoder handles (see the module docstring).

    ``raw`` must be the bytes the HDU list was opened from (``fits.open(io.BytesIO(raw))``):
    tiles are sliced from it, so the heap is never copied whole. Raises ``ValueError`` for a
    tile pointing outside the file (astropy raises on such files too).
    """
    layout = _layout(hdu) if isinstance(raw, bytes) else None  # the C decoder takes bytes
    if layout is None:
        return None
    th, table, dtype = layout
    nx, ny = int(th["ZNAXIS1"]), int(th["ZNAXIS2"])
    settings = _header_to_settings(th)
    blocksize, bytepix = int(settings["blocksize"]), int(settings["bytepix"])
    if bytepix not in (1, 2, 4, 8):
        return None
    tile_dtype = np.dtype(f"i{bytepix}") if bytepix > 1 else np.dtype(np.uint8)
    heap_start = hdu._bintable._data_offset + hdu._bintable._theap
    heap_end = heap_start + int(th.get("PCOUNT", 0))
    if heap_end > len(raw):
        raise ValueError("compressed heap runs past the end of the file")
    desc = np.asarray(table["COMPRESSED_DATA"]).astype(np.int64)
    if desc.shape != (ny, 2) or (desc < 0).any() or (desc.sum(axis=1) > heap_end - heap_start).any():
        raise ValueError("a tile descriptor points outside the compressed heap")
    quantized = "ZSCALE" in table.dtype.names
    zbitpix = int(th["ZBITPIX"])
    zblank_col = np.asarray(table["ZBLANK"]) if "ZBLANK" in table.dtype.names else None
    zblank_hdr = th.get("ZBLANK", hdu.header.get("BLANK", None))

    # Decoded block by block into small reused buffers (they stay in cache; only the image is
    # allocated): rows of RICE integers, then (quantized images) their float64 values.
    image = np.empty((ny, nx), dtype)
    ints = np.empty((ROWS_PER_BLOCK, nx), tile_dtype)
    vals = np.empty((ROWS_PER_BLOCK, nx), np.float64) if quantized else None
    gzip_rows: list[int] = []  # quantized rows stored losslessly instead (GZIP_COMPRESSED_DATA)
    if quantized:
        zscale = np.asarray(table["ZSCALE"]).astype(np.float64)
        zzero = np.asarray(table["ZZERO"]).astype(np.float64)
        method = DITHER_METHODS[th.get("ZQUANTIZ", "NO_DITHER")]
        seed = th.get("ZDITHER0", 0)
        unquantize = unquantize_float_c if zbitpix == -32 else unquantize_double_c
    descriptors = desc.tolist()
    for r in range(0, ny, ROWS_PER_BLOCK):
        m = min(ny, r + ROWS_PER_BLOCK) - r
        q = ints[:m]
        for k in range(m):
            n, off = descriptors[r + k]
            if n == 0:
                if not quantized:
                    return None
                gzip_rows.append(r + k)
                q[k] = 0
                continue
            a = heap_start + off
            q[k] = np.frombuffer(decompress_rice_1_c(raw[a:a + n], blocksize, bytepix, nx),
                                 tile_dtype, count=nx)
        if not quantized:
            image[r:r + m] = q
            continue
        v = vals[:m]
        if method == -1:  # NO_DITHER: value = q · ZSCALE + ZZERO in float64, as astropy
            np.multiply(q, zscale[r:r + m, None], out=v)
            v += zzero[r:r + m, None]
        else:
            for k in range(m):
                i = r + k
                v[k] = np.frombuffer(unquantize(q[k].tobytes(), i + seed, nx, zscale[i],
                                                zzero[i], method, 0, 0, 0.0, bytepix), dtype)
        blank = zblank_col[r:r + m, None] if zblank_col is not None else zblank_hdr
        if blank is not None:
            v[q == blank] = np.nan
        image[r:r + m] = v
    for i in gzip_rows:  # written last: the blank mask never touches them
        image[i] = _gzip_row(raw, heap_start, table, i, nx, dtype)
    data = hdu._scale_data(image)
    hdu._update_header_scale_info(data.dtype)
    return data


def _gzip_row(raw: bytes, heap_start: int, table, i: int, nx: int, dtype: np.dtype):
    """A quantized image's row stored losslessly (``GZIP_COMPRESSED_DATA``: big-endian floats)."""
    if "GZIP_COMPRESSED_DATA" not in table.dtype.names:
        raise ValueError(f"tile {i} has no data (no COMPRESSED_DATA nor GZIP_COMPRESSED_DATA)")
    n, off = (int(v) for v in table["GZIP_COMPRESSED_DATA"][i])
    a = heap_start + off
    buf = gzip.decompress(raw[a:a + n])
    if len(buf) != nx * dtype.itemsize:
        raise ValueError(f"tile {i}: {len(buf)} bytes once decompressed, expected "
                         f"{nx * dtype.itemsize}")
    return np.frombuffer(buf, dtype.newbyteorder(">"))


__all__ = ["ROWS_PER_BLOCK", "decode_rice_rows"]
