"""Prints the kafka-acls.sh commands that grant deploy/kafka/acls.yaml.

    python deploy/kafka/acls.py --bootstrap kafka.bus.example:9093 --command-config admin.properties | sh

Re-running is harmless: Kafka keeps one binding per principal, resource,
pattern and operation.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import yaml

RESOURCE_FLAGS = {"topic": "--topic", "group": "--group", "cluster": "--cluster"}


def commands(spec: dict, bootstrap: str, command_config: str | None) -> list[list[str]]:
    out = []
    for holder in spec.get("principals", []) + spec.get("operators", []):
        for acl in holder["acls"]:
            cmd = ["kafka-acls.sh", "--bootstrap-server", bootstrap]
            if command_config:
                cmd += ["--command-config", command_config]
            cmd += ["--add", "--allow-principal", holder["principal"]]
            for operation in acl["operations"]:
                cmd += ["--operation", operation]
            flag = RESOURCE_FLAGS[acl["resource"]]
            cmd += [flag] if acl["resource"] == "cluster" else [flag, acl["name"]]
            cmd += ["--resource-pattern-type", acl["pattern"]]
            out.append(cmd)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--command-config", help="client properties of an admin principal")
    parser.add_argument("--file", default=str(Path(__file__).with_name("acls.yaml")))
    args = parser.parse_args()
    spec = yaml.safe_load(Path(args.file).read_text())
    for cmd in commands(spec, args.bootstrap, args.command_config):
        print(shlex.join(cmd))


if __name__ == "__main__":
    main()
