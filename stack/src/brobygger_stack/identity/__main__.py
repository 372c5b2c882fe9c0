"""Run the embedded identity provider alone:

    python -m brobygger_stack.identity [--port 8090] [--workdir .brobygger]

prints each organisation's issuer, the TRUSTED_ISSUERS value for the services
and the demo logins, and serves until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from brobygger_stack.identity.provider import IdentityProvider
from brobygger_stack.identity.seed import DEMO_ORGANISATIONS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m brobygger_stack.identity", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback only unless you know why (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workdir", type=Path, default=Path(".brobygger"),
                        help="keys and generated logins go to <workdir>/identity/ (default .brobygger)")
    parser.add_argument("--organisations", default=",".join(DEMO_ORGANISATIONS))
    args = parser.parse_args(argv)
    organisations = tuple(o.strip() for o in args.organisations.split(",") if o.strip())
    provider = IdentityProvider(organisations=organisations, host=args.host, port=args.port, workdir=args.workdir)
    provider.start()
    print(f"Embedded identity provider on {provider.base_url}")
    print(f"TRUSTED_ISSUERS='{provider.trusted_issuers_json()}'")
    print()
    print(provider.logins_table(), flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stopping.wait()
    provider.stop()


if __name__ == "__main__":
    main()
