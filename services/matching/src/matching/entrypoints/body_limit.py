"""A cap on request bodies, checked before the API reads one whole (FastAPI reads a JSON body before any
route code runs): 413 with a reason by the Content-Length, else as soon as the streamed body passes the cap.

The CSV import has its own, larger limit and streams its body itself; its path is left alone here."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int, exempt: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _answer(send, 400, "bad_content_length", "Content-Length is not a number")
                return
            if size > self.max_bytes:
                await _answer(send, 413, "body_too_large",
                              f"the body has {size} bytes; at most {self.max_bytes} are accepted")
                return
        # Without a trustworthy length: take the body in up to the cap, then hand it on.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await _answer(send, 413, "body_too_large", f"the body exceeds {self.max_bytes} bytes; at most "
                              f"{self.max_bytes} are accepted")
                return
            messages.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _answer(send: Send, status: int, error: str, reason: str) -> None:
    body = json.dumps({"detail": {"error": error, "reason": reason}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
