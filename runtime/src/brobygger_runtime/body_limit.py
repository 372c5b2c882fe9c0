"""A cap on request bodies for every route, checked before a body is read
whole: a declared Content-Length over the cap is refused at once, and a
chunked body is counted as it streams in. Either way the answer is 413 with a
JSON reason. Routes that take less (one card, one contact) are still limited
by their schemas; imports with a larger need set their own stream limits."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect

Scope = dict[str, Any]


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await self._refuse(send, 400, "bad_content_length", "Content-Length is not a number")
                return
            if too_large:
                await self._refuse(send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes")
                return
        seen = 0
        started = refused = False

        async def counting_receive() -> dict:
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now and tell the app the client went away: whatever it
                    # does with that (FastAPI makes it a 400), nothing more is sent.
                    refused = True
                    if not started:
                        started = True
                        await self._refuse(send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except ClientDisconnect:
            if not refused:
                raise  # a real disconnect: the server's business

    @staticmethod
    async def _refuse(send: Any, status: int, error: str, reason: str) -> None:
        body = json.dumps({"detail": {"error": error, "reason": reason}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


async def read_capped_body(request: Request, limit: int, what: str = "the body") -> bytes:
    """A route's own, smaller cap (an import, a batch): the body, refused with 413 as soon
    as it is known to exceed `limit` bytes, by its Content-Length before anything is
    read, else while it streams in (never read whole first)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(400, {"error": "bad_content_length",
                                      "reason": f"Content-Length is not a number: {declared[:40]!r}"}) from None
        if size > limit:
            raise _too_large(what, limit)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise _too_large(what, limit)
    return bytes(received)


def _too_large(what: str, limit: int) -> HTTPException:
    return HTTPException(413, {"error": "body_too_large", "reason": f"{what} is over {limit} bytes, the most accepted here"})
