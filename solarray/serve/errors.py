"""HTTP errors of the service: :class:`RequestError` (a refused request with its HTTP status and
JSON body) and the status of each :class:`~solarray.pipeline.inputs.InputError` kind.

The pipeline refuses inputs with a plain domain error (an :class:`InputError` whose ``kind`` says
why); only here does that become an HTTP status:

==============  ======
``kind``        status
==============  ======
``invalid``     422
``unsupported`` 415
``too_large``   413
``forbidden``   403
``not_found``   404
==============  ======
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from solarray.pipeline.inputs import INPUT_KINDS, InputError

#: HTTP status of each :class:`InputError` kind.
INPUT_STATUS: dict[str, int] = {"invalid": 422, "unsupported": 415, "too_large": 413,
                                "forbidden": 403, "not_found": 404}
assert set(INPUT_STATUS) == set(INPUT_KINDS)


class RequestError(ValueError):
    """A request the service refuses; ``status`` is the HTTP status, ``detail`` extra JSON."""

    def __init__(self, message: str, status: int = 422, **detail):
        super().__init__(message)
        self.status = status
        self.detail = detail

    def to_json(self) -> dict:
        return {"error": str(self), "status": self.status, **self.detail}


def http_status(err: InputError | RequestError) -> int:
    """The HTTP status of a refused request or input."""
    if isinstance(err, RequestError):
        return err.status
    return INPUT_STATUS[err.kind]


def error_body(err: InputError | RequestError) -> dict:
    """The JSON body of a refusal: ``error`` (the reason), ``status`` and the error's details."""
    return {"error": str(err), "status": http_status(err), **err.detail}


def error_response(err: InputError | RequestError) -> JSONResponse:
    """The JSON response of a refusal."""
    return JSONResponse(error_body(err), status_code=http_status(err))


__all__ = ["INPUT_STATUS", "RequestError", "error_body", "error_response", "http_status"]
