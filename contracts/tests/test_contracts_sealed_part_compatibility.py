"""An event's sealed part (`x-sealed-part`) follows the event's rule: within v1 only optional fields may be
added (before, any change to it was refused, so MatchProposed could not gain an optional sealed field)."""

from __future__ import annotations

from brobygger_contracts.compatibility import incompatibilities
from brobygger_contracts.events.matching import MatchProposed


def _with_part_field(schema: dict, name: str, required: bool) -> dict:
    part = dict(schema["x-sealed-part"])
    part["properties"] = {**part["properties"], name: {"type": "integer"}}
    if required:
        part["required"] = [*part.get("required", []), name]
    return {**schema, "x-sealed-part": part}


def test_an_optional_sealed_field_may_be_added_a_required_one_may_not():
    schema = MatchProposed.model_json_schema()
    assert incompatibilities(schema, _with_part_field(schema, "seats_left", required=False)) == []
    problems = incompatibilities(schema, _with_part_field(schema, "seats_left", required=True))
    assert problems == ["field `sealed.seats_left` added as required"]
    without = {k: v for k, v in schema.items() if k != "x-sealed-part"}
    assert incompatibilities(schema, without) == ["the event: sealed part added or removed"]
