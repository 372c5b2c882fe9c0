"""`brobygger topics create` and `check`: the partnership's topics, one per
organisation and service it runs, each with its .dlt, on a real broker."""

from __future__ import annotations

import asyncio
import json
import uuid

from typer.testing import CliRunner

from brobygger_contracts import partnership_topics
from brobygger_stack.cli import app
from brobygger_stack.partnership import Partnership
from brobygger_stack.testing import partnership_topics_on


def test_topics_create_makes_the_partnerships_topics_and_check_finds_them(kafka_bootstrap, tmp_path) -> None:  # noqa: ANN001
    partnership = f"cli{uuid.uuid4().hex[:8]}"
    described = tmp_path / "partnership.json"
    described.write_text(json.dumps({"partnership": partnership,
                                     "organisations": {"varde-kommune": ["referral", "journey"], "red-cross": ["matching"]}}))
    runner = CliRunner()
    args = ["--bootstrap", kafka_bootstrap, "--partnership-file", str(described)]

    missing = runner.invoke(app, ["topics", "check", *args])
    assert missing.exit_code == 1 and f"brobygger.{partnership}.matching.red-cross.v1" in missing.output

    created = runner.invoke(app, ["topics", "create", *args])
    assert created.exit_code == 0, created.output
    expected = partnership_topics(partnership, Partnership.load(described).runs)
    assert len(expected) == 6
    assert asyncio.run(partnership_topics_on(kafka_bootstrap, partnership)) == expected

    again = runner.invoke(app, ["topics", "create", *args])
    assert again.exit_code == 0 and "nothing, all topics exist" in again.output
    assert runner.invoke(app, ["topics", "check", *args]).exit_code == 0


def test_the_demo_partnership_says_who_runs_what() -> None:
    demo = Partnership.load()
    assert demo.id == "varde"
    assert demo.runs == {"varde-kommune": ("referral", "matching", "journey", "notify"), "red-cross": ("matching",),
                         "abf": ()}
