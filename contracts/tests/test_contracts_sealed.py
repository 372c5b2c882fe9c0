"""Sealed parts on the wire (DESIGN.md section 2): the sensitive fields never travel in clear."""

from __future__ import annotations

import json

import pytest

from brobygger_contracts import EVENTS, read_payload
from brobygger_contracts.events.journey import NeedsClarified, NeedsClarifiedSealed
from brobygger_contracts.examples import SEALED_PARTS, sample, sample_opened
from brobygger_contracts.export import event_schema
from brobygger_contracts.sealed import PART_SCHEMA_KEY, SEALED_FIELD, SealedEvent, SealedPartUnavailable

SEALING = [e for e in EVENTS if issubclass(e, SealedEvent)]
by_name = pytest.mark.parametrize("event", SEALING, ids=lambda e: e.__name__)

# What issue 13 names as readable by every partner today: each must be inside a box now.
MUST_BE_SEALED = {
    "ReferralReceived": {"source", "referrer_org", "postal_code", "age_band", "lives_alone"},
    "ReferralEscalated": {"reason", "receiving_unit"},
    "NeedsClarified": {"postal_code", "barriers", "baseline"},
    "FirstVisitPlanned": {"visit_at"},
    "MatchProposed": {"reasons", "distance_km"},
    "JourneyCompleted": {"baseline", "final"},
}


def test_the_events_issue_13_names_seal_their_sensitive_fields():
    by_name_ = {e.__name__: e for e in SEALING}
    for name, fields in MUST_BE_SEALED.items():
        event = by_name_[name]
        assert fields <= set(event.sealed_part.model_fields), name
        assert not fields & set(event.model_fields), f"{name} still carries {fields & set(event.model_fields)} in clear"


def test_volunteers_traits_do_not_travel():
    volunteer = next(e for e in EVENTS if e.__name__ == "VolunteerRegistered")
    assert not {"interests", "languages", "postal_code", "availability", "max_travel_km"} & set(volunteer.model_fields)


@by_name
def test_every_sealed_part_has_an_example_and_is_in_the_schema(event):
    part = event.sealed_part.model_validate(SEALED_PARTS[event.__name__])
    schema = event_schema(event)
    assert schema[PART_SCHEMA_KEY]["title"] == event.sealed_part.__name__
    assert SEALED_FIELD in schema["properties"] and SEALED_FIELD not in schema.get("required", [])
    assert sample_opened(event).opened == part


@by_name
def test_the_clear_json_of_an_event_built_with_every_field_holds_none_of_the_sealed_ones(event):
    built = sample_opened(event)
    clear = json.loads(built.model_dump_json())
    assert not set(event.sealed_part.model_fields) & set(clear)
    assert clear[SEALED_FIELD] is None  # sealed by the publisher's runtime, not by the model


def test_an_event_read_from_the_wire_has_no_opened_part_until_the_runtime_opens_it():
    received = read_payload(NeedsClarified, json.loads(sample(NeedsClarified).model_dump_json()))
    assert not received.is_open
    with pytest.raises(SealedPartUnavailable):
        received.opened  # noqa: B018
    part = NeedsClarifiedSealed.model_validate(SEALED_PARTS["NeedsClarified"])
    opened = received.with_opened(part)
    assert opened.opened.postal_code == "6800" and opened.sealed == received.sealed
    with pytest.raises(TypeError):
        received.with_opened(sample_opened(next(e for e in SEALING if e is not NeedsClarified)).opened)
