"""The generated JSON Schemas and AsyncAPI document: committed, current, complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from brobygger_contracts import EVENTS, DeadLetterCause, Envelope
from brobygger_contracts.catalogue import SERVICES, dead_letter_topic, topic_template
from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.examples import sample
from brobygger_contracts.export import ASYNCAPI_FILE, CONTRACTS_DIR, main, render, schema_file, stale


def test_committed_files_are_not_stale():
    generated = render()
    stale_files = [
        path for path, text in generated.items()
        if not (CONTRACTS_DIR / path).is_file() or (CONTRACTS_DIR / path).read_text("utf-8") != text
    ]
    assert not stale_files, f"stale: {stale_files}; run `python -m brobygger_contracts.export` and commit"
    assert stale() == [], "schemas/ holds a file no event type generates"


def test_rendering_does_not_depend_on_the_process():
    # Another interpreter with another hash seed must produce the same bytes.
    code = "import json, sys; from brobygger_contracts.export import render; json.dump(render(), sys.stdout)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(out.stdout) == render()


def test_check_names_stale_missing_and_orphaned_files(tmp_path: Path, capsys):
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "asyncapi.yaml" in capsys.readouterr().err

    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0
    capsys.readouterr()

    edited = tmp_path / schema_file(NeedsClarified)
    edited.write_text(edited.read_text() + " ")
    orphan = tmp_path / "schemas" / "org.brobygger.referral.Gone.v1.json"
    orphan.write_text("{}")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert schema_file(NeedsClarified) in err and "Gone.v1.json" in err and "asyncapi" not in err

    assert main(["--root", str(tmp_path)]) == 0
    assert not orphan.exists()
    assert main(["--check", "--root", str(tmp_path)]) == 0


# (g) AsyncAPI --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return yaml.safe_load((CONTRACTS_DIR / ASYNCAPI_FILE).read_text("utf-8"))


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def test_asyncapi_lists_every_topic_and_event_type(asyncapi):
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["info"]["title"] and asyncapi["info"]["version"]
    addresses = sorted(channel["address"] for channel in asyncapi["channels"].values())
    expected = [topic_template(s) for s in SERVICES]
    assert addresses == sorted(expected + [dead_letter_topic(t) for t in expected])
    messages = asyncapi["components"]["messages"]
    assert {e.event_type() for e in EVENTS} <= set(messages)
    for event in EVENTS:
        (channel,) = [c for c in asyncapi["channels"].values() if c["address"] == topic_template(event.publisher, event.version)]
        refs = [m["$ref"] for m in channel["messages"].values()]
        assert f"#/components/messages/{event.event_type()}" in refs, f"{event.__name__} not on {topic_template(event.publisher, event.version)}"
    for channel in asyncapi["channels"].values():
        if channel["address"].endswith(".dlt"):
            assert [m["$ref"] for m in channel["messages"].values()] == ["#/components/messages/DeadLetter"]


def test_every_channel_address_is_parameterised_by_partnership_and_organisation(asyncapi):
    import re

    for channel in asyncapi["channels"].values():
        assert set(re.findall(r"{([a-z]+)}", channel["address"])) == {"partnership", "org"}, channel["address"]
        assert set(channel["parameters"]) == {"partnership", "org"}


def test_asyncapi_references_resolve(asyncapi):
    for channel in asyncapi["channels"].values():
        for message in channel["messages"].values():
            _resolve(asyncapi, message["$ref"])
    for name, operation in asyncapi["operations"].items():
        assert operation["action"] in ("send", "receive")
        channel_ref = operation["channel"]["$ref"]
        _resolve(asyncapi, channel_ref)
        for message in operation["messages"]:
            # AsyncAPI 3: an operation's messages are those of its own channel.
            assert message["$ref"].startswith(channel_ref + "/messages/"), (name, message)
            _resolve(asyncapi, message["$ref"])
    for event in EVENTS:
        message = asyncapi["components"]["messages"][event.event_type()]
        for part in message["headers"]["allOf"]:
            if "$ref" in part:
                _resolve(asyncapi, part["$ref"])
        payload = json.loads((CONTRACTS_DIR / message["payload"]["$ref"]).read_text("utf-8"))
        assert payload["x-ce-type"] == event.event_type()
        assert payload["x-topic"] == topic_template(event.publisher, event.version)
        assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_asyncapi_header_schemas_match_what_is_written(asyncapi):
    schemas = asyncapi["components"]["schemas"]
    event = sample(NeedsClarified)
    headers = {
        k: v.decode()
        for k, v in Envelope.for_event(event, partnership="varde", org="varde-kommune", service="journey").to_headers()
    }
    jsonschema.Draft202012Validator(schemas["CloudEventsHeaders"]).validate(headers)
    assert set(schemas["CloudEventsHeaders"]["required"]) == set(headers)
    named_in_design = ("id", "source", "type", "specversion", "time", "subject", "partnership", "org")
    assert {f"ce_{name}" for name in named_in_design} <= set(headers)
    dead_letter = {
        "dlt_cause": "validation",
        "dlt_reason": "1 validation error for NeedsClarified",
        "dlt_consumer": "matching",
        "dlt_original_topic": "brobygger.varde.journey.varde-kommune.v1",
        "dlt_original_partition": "0",
        "dlt_original_offset": "42",
        "dlt_failed_at": "2025-03-04T10:15:30+00:00",
    }
    jsonschema.Draft202012Validator(schemas["DeadLetterHeaders"]).validate(dead_letter)
    assert set(schemas["DeadLetterHeaders"]["required"]) == set(dead_letter)
