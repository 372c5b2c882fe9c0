"""Writes `.env` for docker-compose.yml: a random value for every variable that
deploy/compose/env.example names, keeping the values an existing `.env` has.

    python deploy/compose/make_secrets.py            # .env next to docker-compose.yml
    python deploy/compose/make_secrets.py --output /elsewhere/.env

The file is created with mode 0600 and is gitignored. People's passwords are
readable (four groups of five letters and digits, about 100 bits); every other
secret is 32 random URL-safe bytes. No value holds `$`, quotes or spaces, so
neither compose's interpolation nor a connection URL or SQL literal mangles it.
Nothing is printed but the names written: read a password in `.env` itself.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "env.example"
DEFAULT_OUTPUT = HERE.parent.parent / ".env"
_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


def names(example: Path = EXAMPLE) -> list[str]:
    """The variables env.example lists, in its order."""
    return [m.group(1) for line in example.read_text().splitlines() if (m := _LINE.match(line.strip()))]


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return {m.group(1): m.group(2) for line in path.read_text().splitlines() if (m := _LINE.match(line.strip()))}


def new_value(name: str) -> str:
    if name.endswith("_PASSWORD") and not name.startswith(("POSTGRES_", "BROBYGGER_DB_")):
        return "-".join("".join(secrets.choice(_READABLE) for _ in range(5)) for _ in range(4))
    return secrets.token_urlsafe(32)


def make(output: Path = DEFAULT_OUTPUT, example: Path = EXAMPLE) -> list[str]:
    """Writes `output`; returns the names that got a new value."""
    existing = read_env(output)
    values, added = dict(existing), []
    for name in names(example):
        if not values.get(name):
            values[name] = new_value(name)
            added.append(name)
    text = ("# Made by deploy/compose/make_secrets.py for docker-compose.yml. Secrets: never commit this file.\n"
            + "".join(f"{name}={value}\n" for name, value in values.items()))
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(output, 0o600)
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write (default: %(default)s)")
    args = parser.parse_args()
    added = make(args.output)
    kept = len(names()) - len(added)
    print(f"{args.output}: {len(added)} new value(s), {kept} kept" + (f" ({', '.join(added)})" if added else ""))


if __name__ == "__main__":
    main()
