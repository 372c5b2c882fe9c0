"""Domain refusals as HTTP answers: 422 naming the field, else a status with the reason."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from brobygger_runtime import access_log
from brobygger_runtime.http import runtime_of
from referral.domain.errors import Erased, Forbidden, Hidden, NotFound, Refused
from referral.service_layer.referrals import Unprocessable

STATUS_OF = {Forbidden: 403, NotFound: 404, Refused: 409, Erased: 410}


def problems_detail(exc: Unprocessable, prefix: tuple = ("body",)) -> list[dict]:
    """The same shape as FastAPI's own validation errors."""
    return [{"type": "value_error", "loc": [*prefix, *p.loc], "msg": p.msg} for p in exc.problems]


def printable(part: object) -> object:
    """Lone surrogates (valid in JSON, not in UTF-8) would make the answer itself fail."""
    return part.encode("utf-8", "backslashreplace").decode() if isinstance(part, str) else part


def validation_detail(exc: RequestValidationError) -> list[dict]:
    """FastAPI's errors without the `input`: the answer does not echo personal data back."""
    return [
        {"type": e.get("type"), "loc": [printable(p) for p in e.get("loc", ())], "msg": printable(e.get("msg", ""))}
        for e in exc.errors()
    ]


def _count_refused_card(request: Request) -> None:
    if request.method == "POST" and request.url.path == "/referrals":
        request.app.state.referral_metrics.refused.inc()


def install_error_handlers(app: FastAPI) -> None:
    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        _count_refused_card(request)
        return JSONResponse({"detail": validation_detail(exc)}, status_code=422)

    async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
        _count_refused_card(request)
        return JSONResponse({"detail": problems_detail(exc)}, status_code=422)

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        status = next(code for cls, code in STATUS_OF.items() if isinstance(exc, cls))
        return JSONResponse({"detail": str(exc)}, status_code=status)

    async def hidden(request: Request, exc: Exception) -> JSONResponse:
        """A citizen outside the caller's consent: logged as refused (in a transaction of its own,
        since the request's rolled back), answered exactly like an unknown one."""
        assert isinstance(exc, Hidden)
        caller = getattr(request.state, "caller", None)
        if caller is not None:
            runtime = runtime_of(request)
            async with runtime.db.transaction() as session:
                await access_log.record(session, runtime.tables.access_log, caller, exc.citizen_id,
                                        fields=exc.fields, purpose=exc.purpose, allowed=False)
        return JSONResponse({"detail": str(exc)}, status_code=404)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Unprocessable, unprocessable)
    for exc_cls in STATUS_OF:
        app.add_exception_handler(exc_cls, refused)
    app.add_exception_handler(Hidden, hidden)
