"""HTTP helpers of the ingress: bounded bodies and ``multipart/form-data`` through FastAPI's parser.

Uploads are parsed by Starlette's ``MultiPartParser`` (``python-multipart``, what FastAPI's
``UploadFile`` uses), fed from a stream that counts bytes, so the service's limits hold before
anything is buffered: the whole body (``Content-Length`` and while streaming → 413), the number of
parts (→ 413), each file's size (→ 413), and a body without its closing boundary (a truncated
upload → 400). Every refusal is a :class:`~solarray.serve.errors.RequestError` with a reason.

File parts stay in memory as views of the request's chunks and are joined once per file: no spooled
temporary file (Starlette spools parts over 1 MiB to disk, one thread hop per chunk) and one copy of
each uploaded file — 38 MiB of full-resolution FITS parse in milliseconds. The memory this holds is
bounded by the request limit, checked while streaming.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from solarray.serve.errors import RequestError


@dataclass(frozen=True)
class Part:
    """One form field: ``data`` is the file's bytes (or the field's UTF-8 text)."""

    name: str
    filename: str | None
    content_type: str
    data: bytes = field(repr=False)  # megabytes: a repr (asyncio task reprs, logs) must not print it


#: An over-limit body up to this many times the limit is read and discarded before the 413 is
#: sent: a client still sending when the server answers and closes sees a connection reset, not
#: the 413. Larger bodies are cut off at once.
DRAIN_FACTOR = 4


async def _drain(stream, total: int, limit: int) -> None:
    """Read and discard the rest of an over-limit body, up to ``DRAIN_FACTOR × limit`` bytes."""
    async for chunk in stream:
        total += len(chunk)
        if total > DRAIN_FACTOR * limit:
            return


def _too_large(limit: int, n: int | None = None) -> RequestError:
    size = f"request body of {n} bytes" if n is not None else "request body"
    return RequestError(f"{size} exceeds the limit of {limit} bytes", 413, limit_bytes=limit)


async def _declared_length(request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    try:
        n = int(declared)
    except ValueError:
        raise RequestError(f"bad Content-Length {declared!r}", 400) from None
    if n > limit:
        if n <= DRAIN_FACTOR * limit:
            await _drain(request.stream(), 0, limit)
        raise _too_large(limit, n)


async def _bounded(request, limit: int) -> AsyncIterator[bytes]:
    total = 0
    stream = request.stream()
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            await _drain(stream, total, limit)
            raise _too_large(limit)
        yield chunk


async def read_body(request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes — by ``Content-Length`` before
    reading, and by counting while streaming (chunked uploads)."""
    await _declared_length(request, limit)
    return b"".join([chunk async for chunk in _bounded(request, limit)])


class _Parser(MultiPartParser):
    """Starlette's parser (headers, part counts, errors) keeping file parts in memory as views
    of the request's chunks, and remembering whether the closing boundary arrived."""

    ended = False

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.file_chunks: dict[int, list] = {}  # id(UploadFile) → its bytes, chunk by chunk

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        file = self._current_part.file
        if file is None:  # a text field: Starlette's size check and buffer
            super().on_part_data(data, start, end)
            return
        piece = memoryview(data)[start:end] if isinstance(data, bytes) else bytes(data[start:end])
        self.file_chunks.setdefault(id(file), []).append(piece)

    def on_end(self) -> None:
        self.ended = True


async def read_form(request, limit: int, max_parts: int = 32,
                    max_file_bytes: int | None = None) -> list[Part]:
    """The parts of a ``multipart/form-data`` request, in order (see the module docstring for
    the limits and statuses)."""
    await _declared_length(request, limit)
    parser = _Parser(request.headers, _bounded(request, limit), max_files=max_parts,
                     max_fields=max_parts, max_part_size=max(2**16, min(limit, 2**20)))
    try:
        form = await parser.parse()
    except MultiPartException as err:
        msg = err.message
        if msg.startswith("Too many"):
            raise RequestError(f"more than {max_parts} parts in the form ({msg})", 413) from None
        if "boundary" in msg.lower() and "missing" in msg.lower():
            raise RequestError("multipart/form-data without a boundary", 400) from None
        raise RequestError(f"malformed multipart body: {msg}", 400) from None
    try:
        if not parser.ended:
            raise RequestError("malformed multipart body: missing closing boundary (truncated "
                             "upload?)", 400)
        parts = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                chunks = parser.file_chunks.get(id(value), [])
                size = sum(len(c) for c in chunks)
                if max_file_bytes is not None and size > max_file_bytes:
                    raise RequestError(f"file {value.filename!r}: {size} bytes, more than "
                                     f"{max_file_bytes} bytes", 413, limit_bytes=max_file_bytes)
                parts.append(Part(name, value.filename, value.content_type
                                  or "application/octet-stream", b"".join(chunks)))
            else:
                parts.append(Part(name, None, "text/plain", str(value).encode()))
        return parts
    finally:
        await form.close()


__all__ = ["Part", "read_body", "read_form"]
