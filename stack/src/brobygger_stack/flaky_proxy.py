"""A TCP proxy for fault tests: put it between clients and a broker, then cut
the line on command.

Kafka clients connect to the address the broker *advertises* after bootstrap,
so the broker must advertise the proxy's port (`EmbeddedKafka(advertised_port=
proxy.port)`) for every connection to go through it.

- `cut()`: drop every open connection and refuse new ones until `restore()`,
  like a broker that went away.
- `stall()`: accept and hold connections but forward nothing until `restore()`
  (which then drops them), like a network partition: requests hang until the
  client's own timeout instead of failing fast.
- `drop()`: drop every open connection once; new ones work.

With `ssl` the proxy terminates TLS (clients speak TLS to it, it speaks plain
TCP to the broker): a stand-in for a secured cluster.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module


class FlakyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", listen_port: int = 0,
                 ssl: ssl_module.SSLContext | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = listen_port
        self.ssl = ssl
        self.connections = 0
        """Connections accepted and forwarded so far."""
        self.dropped = 0
        """Connections the proxy broke on command."""
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.StreamWriter] = set()  # both ends of every forwarded connection
        self._held: set[asyncio.StreamWriter] = set()  # connections accepted while stalled
        self._mode = "up"  # up, cut or stalled

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> "FlakyProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
        self._abort_all()

    def drop(self) -> None:
        self._abort_all()

    def cut(self) -> None:
        self._mode = "cut"
        self._abort_all()

    def stall(self) -> None:
        self._mode = "stalled"
        # Already open connections stop forwarding too: move them to the held set.
        self._held |= self._open
        self._open = set()

    def restore(self) -> None:
        self._mode = "up"
        self._abort_all()

    def _abort_all(self) -> None:
        for writer in self._open | self._held:
            self.dropped += 1
            writer.transport.abort()  # a reset, not a polite close: what a dying link looks like
        self._open.clear()
        self._held.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._mode == "cut":
            client_w.transport.abort()
            return
        if self._mode == "stalled":
            self._held.add(client_w)
            return  # never read, never answer; restore() aborts it
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.transport.abort()
            return
        self.connections += 1
        pair = {client_w, upstream_w}
        self._open |= pair
        await asyncio.gather(self._pump(client_r, upstream_w, pair), self._pump(upstream_r, client_w, pair))
        self._open -= pair
        self._held -= pair

    def _forwarding(self, pair: set[asyncio.StreamWriter]) -> bool:
        return bool(pair & self._open)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    pair: set[asyncio.StreamWriter]) -> None:
        try:
            while data := await reader.read(65536):
                if not self._forwarding(pair):
                    continue  # stalled: swallow what arrives until restore() drops the line
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()  # one side ending ends the other, which ends the opposite pump
