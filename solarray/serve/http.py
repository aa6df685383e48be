"""Small HTTP helpers for the ingress: bounded body reading and a strict multipart/form-data parser.

The service does not depend on ``python-multipart``: :func:`parse_multipart` splits a body that
is already bounded in size (:func:`read_body`) on its boundary and returns the parts' bytes
exactly. Nothing in a part is interpreted except its ``Content-Disposition`` name and filename.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from solarray.pipeline.inputs import InputError

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.I)
_DISPOSITION = re.compile(r'(\w+)\*?=(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


async def read_body(request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes — by ``Content-Length`` before
    reading, and by counting while streaming (chunked uploads)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            n = int(declared)
        except ValueError:
            raise InputError(f"bad Content-Length {declared!r}", 400) from None
        if n > limit:
            raise InputError(f"request body of {n} bytes exceeds the limit of {limit} bytes", 413,
                             limit_bytes=limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise InputError(f"request body exceeds the limit of {limit} bytes", 413,
                             limit_bytes=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_multipart(content_type: str, body: bytes, max_parts: int = 32) -> list[Part]:
    """Parts of a ``multipart/form-data`` body (422 on malformed bodies)."""
    m = _BOUNDARY.search(content_type or "")
    if not m:
        raise InputError("multipart/form-data without a boundary", 400)
    boundary = ("--" + (m.group(1) or m.group(2))).encode("latin-1")
    if not body.startswith(boundary):
        # A preamble is allowed before the first boundary line.
        i = body.find(b"\r\n" + boundary)
        if i < 0:
            raise InputError("malformed multipart body: no boundary line", 400)
        body = body[i + 2:]
    pieces = body.split(b"\r\n" + boundary)
    parts: list[Part] = []
    first = pieces[0][len(boundary):]
    pieces = [first, *pieces[1:]]
    closed = False
    for piece in pieces:
        if piece.startswith(b"--"):
            closed = True
            break
        if not piece.startswith(b"\r\n"):
            raise InputError("malformed multipart body: bad boundary line", 400)
        head, sep, data = piece[2:].partition(b"\r\n\r\n")
        if not sep:
            raise InputError("malformed multipart body: part without headers", 400)
        headers = {}
        for line in head.split(b"\r\n"):
            k, _, v = line.decode("utf-8", "replace").partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        params = {k.lower(): (q if q is not None and q != "" else u) for k, q, u in
                  _DISPOSITION.findall(disp)}
        if not disp.lower().startswith("form-data") or "name" not in params:
            raise InputError("malformed multipart body: part without form-data name", 400)
        parts.append(Part(params["name"], params.get("filename"),
                          headers.get("content-type", "application/octet-stream"), data))
        if len(parts) > max_parts:
            raise InputError(f"more than {max_parts} parts in the form", 413)
    if not closed:
        raise InputError("malformed multipart body: missing closing boundary", 400)
    return parts


def encode_multipart(files: list[tuple[str, str, bytes]],
                     boundary: str = "solarray-boundary-7d1f") -> tuple[bytes, str]:
    """``(body, content_type)`` for ``[(field, filename, bytes)]`` — for clients and tests."""
    out = []
    for field, name, data in files:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                   f"filename=\"{name}\"\r\nContent-Type: application/fits\r\n\r\n".encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


__all__ = ["Part", "encode_multipart", "parse_multipart", "read_body"]
