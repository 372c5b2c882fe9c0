"""A TCP proxy in front of the embedded Tansu broker so librdkafka < 2.2 (Debian's kcat) can talk to it.

Why it exists (Tansu-only workaround; real Kafka is used directly, without it):
Tansu answers ApiVersions v3 with a valid KIP-482 tagged-field section holding the
four optional fields at their default values: SupportedFeatures=[], FinalizedFeaturesEpoch=-1,
FinalizedFeatures=[], ZkMigrationReady=false, i.e. `04 | 00 01 01 | 01 08 ff*8 | 02 01 01 | 03 01 00`.
librdkafka before 2.2.0 (confluentinc/librdkafka#4278) skips only `size - 1` bytes per tagged
field, loses its place and fails with "Protocol read buffer underflow for ApiVersion v3".
The proxy forwards every frame unchanged, except that it strips the tagged fields from ApiVersions (v3+)
responses. Those fields only held defaults, so no information is lost. Clients connect to the broker's
*advertised* address after bootstrap, so Tansu must advertise the proxy's port.
"""

from __future__ import annotations

import asyncio
import struct
import threading

API_VERSIONS = 18


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def rewrite_api_versions_response(frame: bytes) -> bytes:
    """Strip the tagged fields from an ApiVersions v3+ response frame.

    `frame` excludes the 4-byte size prefix: correlation_id (header v0 for this API), error_code,
    api_keys (compact array of key/min/max/tags), throttle_time_ms, tagged fields.
    Anything not shaped like that (e.g. an error answered in the v0 format) is returned unchanged.
    """
    try:
        (error_code,) = struct.unpack_from(">h", frame, 4)
        count, pos = _uvarint(frame, 6)
        if error_code != 0 or count == 0:
            return frame
        for _ in range(count - 1):
            pos += 6  # api_key, min_version, max_version
            tags, pos = _uvarint(frame, pos)
            for _ in range(tags):
                _tag, pos = _uvarint(frame, pos)
                size, pos = _uvarint(frame, pos)
                pos += size
        pos += 4  # throttle_time_ms
        if pos >= len(frame):  # no tagged-field section to replace
            return frame
    except (IndexError, struct.error):
        return frame
    return frame[:pos] + b"\x00"  # an empty tagged-field section


class KafkaCompatProxy:
    def __init__(self, upstream_host: str, upstream_port: int, listen_port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = listen_port
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()  # both ends of every open connection

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> "KafkaCompatProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0)  # let the pumps see their connections close

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        pending: set[int] = set()  # correlation ids of ApiVersions v3+ requests on this connection
        self._writers |= {client_w, upstream_w}
        try:
            await asyncio.gather(self._pump(client_r, upstream_w, pending, request=True),
                                 self._pump(upstream_r, client_w, pending, request=False))
        finally:
            self._writers -= {client_w, upstream_w}

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pending: set[int], *, request: bool) -> None:
        try:
            while True:
                size = await reader.readexactly(4)
                frame = await reader.readexactly(struct.unpack(">i", size)[0])
                if request:
                    api_key, api_version, correlation_id = struct.unpack_from(">hhi", frame)
                    if api_key == API_VERSIONS and api_version >= 3:
                        pending.add(correlation_id)
                elif (correlation_id := struct.unpack_from(">i", frame)[0]) in pending:
                    pending.discard(correlation_id)
                    frame = rewrite_api_versions_response(frame)
                    size = struct.pack(">i", len(frame))
                writer.write(size + frame)
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError, struct.error):
            pass
        finally:
            writer.close()  # one side closing closes the other, which ends the opposite pump

    def start_in_thread(self) -> "KafkaCompatProxy":
        """Run the proxy on its own event loop in a daemon thread (for sync fixtures)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kafka-compat-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(timeout=10)
        return self

    def stop_thread(self) -> None:
        if self._loop and self._thread:
            asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._loop = self._thread = None
