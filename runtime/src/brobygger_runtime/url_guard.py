"""Refuses a request whose path or query carries a NUL character (raw or
%00): no identifier or filter has a use for one, and PostgreSQL cannot take
it in text, so it would otherwise fail deep in the driver as a 500."""

from __future__ import annotations

import json
from typing import Any


class RefuseNulInUrl:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = (scope.get("raw_path") or scope.get("path", "").encode()) + b"?" + (scope.get("query_string") or b"")
            if b"\x00" in raw or b"%00" in raw:
                body = json.dumps({"detail": {"error": "nul_in_url",
                                              "reason": "the path or query contains a NUL character"}}).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
