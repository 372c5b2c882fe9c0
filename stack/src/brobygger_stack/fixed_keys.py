"""Citizens' data keys for tests and benchmarks that run a service without
referral: each citizen's key is derived from their id with a fixed secret, so
whoever puts an event on the bus and the service that reads it agree on it
without talking (`FixedKeyServer` answers them over HTTP for service
processes). Never used outside tests and benchmarks (the services get
their keys from referral's key endpoint, CITIZEN_KEYS_URL).

    source = use_test_keys(runtime)            # the service's key client asks these
    await producer.send(..., for_the_bus(event).model_dump_json().encode())
    opened_payload(payload)                    # a raw payload read back, its box opened
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from brobygger_contracts import EVENTS
from brobygger_contracts.base import Event
from brobygger_contracts.sealed import SEALED_FIELD, SealedBox, SealedEvent, associated_data
from brobygger_runtime.citizen_keys import CitizenKeys, FixedKeys, KeyCache
from brobygger_runtime.sealing import open_box, open_event, seal_event

_SECRET = b"brobygger test keys: not a secret"


def derived_key(citizen_id: Any) -> bytes:
    """The test data key of a citizen (32 bytes)."""
    return hmac.new(_SECRET, str(citizen_id).encode(), hashlib.sha256).digest()


def use_test_keys(runtime: Any) -> FixedKeys:
    """The runtime's key client asks the test keys from now on; returns their source, whose
    `withheld` set refuses citizens as referral would and `calls` counts the fetches."""
    source = FixedKeys(derive=derived_key)
    runtime.citizen_keys = CitizenKeys(source, KeyCache(10_000, 300), runtime.settings.org_id)
    return source


def for_the_bus(event: Event) -> Event:
    """The event as its publisher's runtime writes it: a sealed part sealed under the test key."""
    if isinstance(event, SealedEvent) and event.sealed is None and event.is_open:
        return seal_event(event, derived_key(event.subject()))
    return event


_SEALING = {cls.event_type(): cls for cls in EVENTS if issubclass(cls, SealedEvent)}
_BY_NAME = {cls.__name__: cls for cls in _SEALING.values()}


def opened_payload(payload: dict[str, Any], event_type: str | None = None, key: bytes | None = None) -> dict[str, Any]:
    """A payload read from the bus or an outbox with its box opened under `key` (default the test
    key): the sealed fields beside the clear ones (as before they were sealed), `sealed` gone.
    `event_type`: the `ce_type` or the class name; without it the payload is returned as it is
    when it has no box."""
    box = payload.get(SEALED_FIELD)
    if box is None:
        return {k: v for k, v in payload.items() if k != SEALED_FIELD}
    cls = _SEALING.get(event_type or "") or _BY_NAME.get(event_type or "")
    if cls is None:
        raise ValueError(f"name the event type of a sealed payload, not {event_type!r}")
    subject = str(payload[cls.subject_field])
    part = open_box(SealedBox.model_validate(box), key or derived_key(subject), associated_data(cls.event_type(), subject),
                    cls.sealed_part)
    clear = {k: v for k, v in payload.items() if k != SEALED_FIELD}
    return clear | part.model_dump(mode="json")


def opened(event: Event) -> Event:
    """An event read from the bus, its box opened under the test key (others as they are)."""
    if isinstance(event, SealedEvent) and event.sealed is not None:
        return open_event(event, derived_key(event.subject()))
    return event


class FixedKeyServer:
    """Stands in for referral's key endpoint where a test runs services as processes without
    referral: `POST /citizen-keys` answers every id with its derived test key. Set the processes'
    CITIZEN_KEYS_URL to `url`.

        with FixedKeyServer() as keys:
            ServiceProcess("journey", ..., env={"CITIZEN_KEYS_URL": keys.url, ...})
    """

    def __enter__(self) -> "FixedKeyServer":
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                keys = {c: base64.b64encode(derived_key(c)).decode() for c in body.get("citizen_ids", [])}
                answer = json.dumps({"keys": keys, "withheld": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/citizen-keys"
        threading.Thread(target=self._server.serve_forever, name="fixed-keys", daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
