"""Who runs which service in a partnership: the input from which its topics,
ACLs and principals are made (`brobygger topics create`, deploy/kafka/generate.py).

A JSON file with `partnership` (its id) and `organisations` (organisation ->
the services it runs); demo_partnership.json is the demo partnership's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from brobygger_contracts import partnership_topics
from brobygger_contracts.catalogue import SERVICES, check_id


@dataclass(frozen=True)
class Partnership:
    id: str
    runs: dict[str, tuple[str, ...]]
    """organisation -> the services it runs (an organisation may run none: it is named in consent only)."""

    def topics(self) -> list[str]:
        """Every topic of the partnership, dead-letter topics included."""
        return partnership_topics(self.id, self.runs)

    @classmethod
    def from_json(cls, data: dict) -> "Partnership":
        runs = {}
        for org, services in data["organisations"].items():
            unknown = set(services) - set(SERVICES)
            if unknown:
                raise ValueError(f"{org} runs unknown services {sorted(unknown)}")
            runs[check_id("organisation", org)] = tuple(services)
        return cls(check_id("partnership", data["partnership"]), runs)

    @classmethod
    def load(cls, path: Path | None = None) -> "Partnership":
        """The partnership described in `path`; the demo partnership without one."""
        if path is None:
            text = resources.files("brobygger_stack").joinpath("demo_partnership.json").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return cls.from_json(json.loads(text))
