"""The embedded broker (Tansu) cannot enforce ACLs or authenticate anyone, so
it must be reachable from this machine only: it listens on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

from brobygger_stack.embedded_kafka import EmbeddedKafka


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port` (Linux /proc/net)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_the_embedded_broker_listens_on_loopback_only(tmp_path) -> None:  # noqa: ANN001
    with EmbeddedKafka(log_path=str(tmp_path / "tansu.log")) as broker:
        assert broker.bootstrap_servers.startswith("127.0.0.1:")
        assert _listening_addresses(broker.port) == {"127.0.0.1"}
