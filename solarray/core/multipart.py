"""A ``multipart/form-data`` request body, the client side of an upload (FITS files to the
forecaster, patches to the search service): used by the CLI's HTTP checks, the benchmarks and the
tests. The server side parses with python-multipart (:func:`solarray.serve.http.read_form`)."""

from __future__ import annotations

from collections.abc import Sequence

BOUNDARY = "solarray-boundary-7d1f"


def encode_multipart(files: Sequence[tuple[str, str, bytes]], boundary: str = BOUNDARY,
                     content_type: str = "application/fits") -> tuple[bytes, str]:
    """``(body, content_type)`` for ``[(field, filename, bytes)]`` parts."""
    out = []
    for field, name, data in files:
        out += [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                f"filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n".encode(), data,
                b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


__all__ = ["BOUNDARY", "encode_multipart"]
