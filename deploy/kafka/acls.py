"""Prints the kafka-acls.sh commands that grant deploy/kafka/acls.yaml.

    python deploy/kafka/acls.py --bootstrap kafka.bus.example:9093 --command-config admin.properties | sh

Re-running is harmless: Kafka keeps one binding per principal, resource,
pattern and operation. acls.yaml itself is generated (deploy/kafka/generate.py).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import acl_commands  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--command-config", help="client properties of an admin principal")
    parser.add_argument("--file", default=str(Path(__file__).with_name("acls.yaml")))
    args = parser.parse_args()
    spec = yaml.safe_load(Path(args.file).read_text())
    for cmd in acl_commands(spec, args.bootstrap, args.command_config):
        print(shlex.join(cmd))


if __name__ == "__main__":
    main()
