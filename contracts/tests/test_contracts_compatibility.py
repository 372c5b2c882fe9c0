"""Within a major version only optional fields may be added (DESIGN.md section 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
from enum import Enum
from pathlib import Path

import pytest
from pydantic import Field, create_model

from brobygger_contracts import EVENTS, Event, WireModel
from brobygger_contracts.compatibility import incompatibilities
from brobygger_contracts.export import CONTRACTS_DIR, SCHEMA_DIR, event_schema, render, schema_file

# (b) the committed schemas against the last commit ---------------------------------------------


def _git(*args: str) -> str | None:
    """Output of a git command in this repository, or None when git or the repository is not there."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(["git", *args], cwd=CONTRACTS_DIR, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _in_git(path: str) -> str | None:
    top = _git("rev-parse", "--show-toplevel")
    if top is None:
        return None
    return (CONTRACTS_DIR.resolve().relative_to(Path(top.strip()).resolve()) / path).as_posix()


def _baseline(path: str) -> tuple[str, dict]:
    """The schema to stay compatible with: HEAD's when git has one, else the committed file itself."""
    git_path = _in_git(path)
    if git_path is not None:
        text = _git("show", f"HEAD:{git_path}")
        if text is not None:
            return "HEAD", json.loads(text)
    on_disk = CONTRACTS_DIR / path
    assert on_disk.is_file(), f"{path} is neither in HEAD nor committed: run `python -m brobygger_contracts.export`"
    return "the committed file", json.loads(on_disk.read_text("utf-8"))


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_schema_is_backward_compatible_with_head(event: type[Event]):
    path = schema_file(event)
    source, old = _baseline(path)
    committed = json.loads((CONTRACTS_DIR / path).read_text("utf-8"))
    for label, new in (("committed", committed), ("generated from the models", event_schema(event))):
        problems = incompatibilities(old, new)
        assert not problems, (
            f"{path} ({label}) breaks compatibility with {source}; make a .v2 type instead:\n" + "\n".join(problems)
        )


def test_no_event_schema_in_head_has_disappeared():
    git_path = _in_git(SCHEMA_DIR)
    listing = _git("ls-tree", "--name-only", "HEAD", git_path + "/") if git_path else None
    if listing is None:  # no git: the committed folder is the reference
        before = {f"{SCHEMA_DIR}/{p.name}" for p in (CONTRACTS_DIR / SCHEMA_DIR).glob("*.json")}
    else:
        before = {f"{SCHEMA_DIR}/{Path(line).name}" for line in listing.splitlines() if line.endswith(".json")}
    gone = sorted(before - render().keys())
    assert not gone, f"event types removed within their major version: {gone}"


# (c) the rule, case by case ------------------------------------------------------------------


def schema(model: type[WireModel]) -> dict:
    return model.model_json_schema(mode="serialization")


def check(old: type[WireModel], new: type[WireModel]) -> list[str]:
    return incompatibilities(schema(old), schema(new))


class Colour(str, Enum):
    red = "red"
    green = "green"


class MoreColours(str, Enum):  # also a renamed $defs entry: names are not on the wire
    red = "red"
    green = "green"
    blue = "blue"


class FewerColours(str, Enum):
    red = "red"


class Slot(WireModel):
    """A nested value."""

    day: str
    """Day."""
    hours: int
    """Hours."""


class Base(WireModel):
    """Version 1."""

    citizen_id: str
    """Who."""
    count: int = Field(ge=0, le=10)
    """How many."""
    note_code: str | None = None
    """Optional code."""
    colour: Colour = Colour.red
    """A code."""
    slots: list[Slot] = []
    """Nested values."""


def _variant(**changes) -> type[WireModel]:
    """Base with fields replaced or added, as (type, default) with `...` for required, or removed by None."""
    fields: dict = {name: (info.annotation, info) for name, info in Base.model_fields.items()}
    for name, spec in changes.items():
        if spec is None:
            del fields[name]
        else:
            fields[name] = spec
    return create_model("Base", __base__=WireModel, __doc__="Version 2.", **fields)


def test_unchanged_is_compatible():
    assert check(Base, Base) == []
    assert check(Base, _variant()) == []


def test_adding_an_optional_field_is_compatible():
    assert check(Base, _variant(rank=(int, 1), extra_code=(str | None, None))) == []


def test_adding_an_enum_value_is_compatible():
    # Allowed by decision (see compatibility.py): consumers are upgraded before producers use it.
    assert check(Base, _variant(colour=(MoreColours, MoreColours.red))) == []


def test_documentation_changes_are_compatible():
    old, new = schema(Base), schema(Base)
    new["description"] = "Reworded."
    new["properties"]["count"]["description"] = "Reworded too."
    new["$defs"]["Slot"]["title"] = "Renamed"
    assert incompatibilities(old, new) == []


def test_adding_an_optional_field_to_a_nested_model_is_compatible():
    class Slot2(Slot):
        """A nested value, richer."""

        room: str | None = None
        """Where."""

    assert check(Base, _variant(slots=(list[Slot2], []))) == []


def test_removing_a_field_is_incompatible():
    assert check(Base, _variant(count=None)) == ["field `count` removed"]


def test_making_an_optional_field_required_is_incompatible():
    assert check(Base, _variant(note_code=(str | None, ...))) == [
        "field `note_code` was optional and is now required",
        "field `note_code`: `default` (None) removed",
    ]


def test_adding_a_required_field_is_incompatible():
    assert check(Base, _variant(group_id=(str, ...))) == ["field `group_id` added as required"]


def test_changing_a_field_type_is_incompatible():
    problems = check(Base, _variant(citizen_id=(int, ...)))
    assert problems == ["field `citizen_id`: type changed from 'string' to 'integer'"]


def test_narrowing_an_enum_is_incompatible():
    problems = check(Base, _variant(colour=(FewerColours, FewerColours.red)))
    assert problems == ["field `colour` ($defs/Colour): enum narrowed, removed 'green'"]


def test_changing_a_nested_definition_is_incompatible():
    class SlotRetyped(WireModel):
        """A nested value."""

        day: int
        """Day, now a number."""
        hours: int
        """Hours."""

    class SlotShrunk(WireModel):
        """A nested value."""

        day: str
        """Day."""

    assert check(Base, _variant(slots=(list[SlotRetyped], []))) == [
        "field `slots[].day` ($defs/Slot): type changed from 'string' to 'integer'"
    ]
    assert check(Base, _variant(slots=(list[SlotShrunk], []))) == ["field `slots[].hours` ($defs/Slot) removed"]


def test_nested_definition_changes_are_found_in_defs_edits_too():
    old = schema(Base)
    new = json.loads(json.dumps(old))
    new["$defs"]["Slot"]["required"].append("room")
    new["$defs"]["Slot"]["properties"]["room"] = {"type": "string"}
    new["$defs"]["Colour"]["enum"] = ["green"]
    assert incompatibilities(old, new) == [
        "field `colour` ($defs/Colour): enum narrowed, removed 'red'",
        "field `slots[].room` ($defs/Slot) added as required",
    ]


def test_nullability_changes_are_incompatible():
    assert check(Base, _variant(citizen_id=(str | None, ...))) == ["field `citizen_id`: now also accepts null"]
    assert check(Base, _variant(note_code=(str, "x"))) == [
        "field `note_code`: `default` changed from None to 'x'",
        "field `note_code`: no longer accepts null",
    ]


def test_changing_constraints_or_defaults_is_incompatible():
    problems = check(Base, _variant(count=(int, Field(ge=0, le=20, description="How many."))))
    assert problems == ["field `count`: `maximum` changed from 10 to 20"]
    assert check(Base, _variant(colour=(Colour, Colour.green))) == [
        "field `colour` ($defs/Colour): `default` changed from 'red' to 'green'"
    ]


def test_making_a_required_field_optional_is_incompatible():
    assert check(Base, _variant(citizen_id=(str, "unknown"))) == [
        "field `citizen_id` was required and is now optional",
        "field `citizen_id`: `default` ('unknown') added",
    ]


def test_moving_an_event_to_another_topic_is_incompatible():
    old = {"type": "object", "properties": {}, "x-topic": "brobygger.{partnership}.referral.{org}.v1"}
    new = {**old, "x-topic": "brobygger.{partnership}.journey.{org}.v1"}
    assert incompatibilities(old, new) == [
        "the event: `x-topic` changed from 'brobygger.{partnership}.referral.{org}.v1' to 'brobygger.{partnership}.journey.{org}.v1'"
    ]


def test_every_real_event_is_compatible_with_itself():
    for event in EVENTS:
        assert incompatibilities(event_schema(event), json.loads(json.dumps(event_schema(event)))) == []
