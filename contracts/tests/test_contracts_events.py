"""The event models themselves: documented, free of personal data, and faithful on the wire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from brobygger_contracts import (
    EVENTS,
    EVENTS_BY_TYPE,
    DeadLetterHeaders,
    Envelope,
    EnvelopeError,
    read_payload,
)
from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.events.matching import ActivityPublished
from brobygger_contracts.sealed import PART_SCHEMA_KEY
from brobygger_contracts.examples import PAYLOADS, sample
from brobygger_contracts.export import event_schema
from brobygger_contracts.types import UclaScore

by_name = pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)


def _models(schema: dict) -> dict[str, dict]:
    """Every object schema in an event's JSON Schema by model name: the event and nested models."""
    models = {schema["title"]: schema}
    if PART_SCHEMA_KEY in schema:  # the plaintext of the box, documented and checked alike
        models[schema[PART_SCHEMA_KEY]["title"]] = schema[PART_SCHEMA_KEY]
    models.update({name: d for name, d in schema.get("$defs", {}).items() if "properties" in d})
    return models


def test_every_event_type_has_a_sample():
    assert set(PAYLOADS) == {e.__name__ for e in EVENTS}


# (d) documentation ---------------------------------------------------------------------------


def test_every_event_model_and_field_is_documented():
    missing = []
    for event in EVENTS:
        for model, schema in _models(event_schema(event)).items():
            if not schema.get("description"):
                missing.append(f"{event.__name__}: model {model}")
            missing += [
                f"{event.__name__}: {model}.{field}"
                for field, prop in schema["properties"].items()
                if not prop.get("description")
            ]
    assert not missing, "undocumented (add a docstring):\n" + "\n".join(sorted(set(missing)))


@pytest.mark.parametrize("model", [Envelope, DeadLetterHeaders], ids=lambda m: m.__name__)
def test_header_models_are_documented(model):
    missing = [f for f, info in model.model_fields.items() if not info.description]
    assert not missing, f"{model.__name__} fields without a docstring: {missing}"


# (f) no personal data ------------------------------------------------------------------------

PERSONAL = ("name", "phone", "mobile", "mail", "address", "street", "note", "comment", "text", "cpr", "birth")
# Public names of activities, not of people (DESIGN.md section 2), and a sealed box's ciphertext
# (opaque without the citizen's key): the only exceptions.
ALLOWED = {("MatchProposedSealed", "candidate_name"), ("ActivityPublished", "name"), ("SealedBox", "ciphertext")}


def test_events_carry_no_personal_data_fields():
    offenders, seen = [], set()
    for event in EVENTS:
        for model, schema in _models(event_schema(event)).items():
            for field in schema["properties"]:
                seen.add((model, field))
                if any(word in field.lower() for word in PERSONAL) and (model, field) not in ALLOWED:
                    offenders.append(f"{model}.{field} (in {event.__name__})")
    assert not offenders, "fields that look like personal data:\n" + "\n".join(offenders)
    assert ALLOWED <= seen, f"stale allow-list entries: {ALLOWED - seen}"


# (e) round trip ------------------------------------------------------------------------------


@by_name
def test_event_round_trips_through_json_and_headers(event):
    sent = sample(event)
    body = sent.model_dump_json().encode()
    envelope = Envelope.for_event(sent, partnership="varde", org="varde-kommune", service=event.publisher)
    key = sent.subject().encode()

    received = Envelope.from_headers(envelope.to_headers())
    assert received == envelope
    assert received.subject.encode() == key
    model = EVENTS_BY_TYPE[received.type]
    assert model is event
    assert read_payload(model, json.loads(body)) == sent
    # The strict model takes back its own output too, not only the tolerant reader.
    assert model.model_validate_json(body) == sent
    # And the published schema describes exactly what was sent.
    jsonschema.Draft202012Validator(event_schema(event), format_checker=jsonschema.FormatChecker()).validate(
        json.loads(body)
    )


@by_name
def test_reader_ignores_unknown_fields_but_the_model_refuses_them(event):
    data = json.loads(sample(event).model_dump_json())
    data["added_in_a_later_minor"] = {"anything": [1, 2]}
    assert read_payload(event, data) == sample(event)
    with pytest.raises(ValidationError, match="added_in_a_later_minor"):
        event(**data)
    with pytest.raises(ValidationError):
        event.model_validate(data)


def test_reader_ignores_unknown_fields_in_nested_values():
    data = json.loads(sample(ActivityPublished).model_dump_json())
    data["schedule"][0]["room"] = "B"
    data_sealed = json.loads(sample(NeedsClarified).model_dump_json())
    data_sealed["sealed"]["key_hint"] = "none"
    assert read_payload(ActivityPublished, data) == sample(ActivityPublished)
    assert read_payload(NeedsClarified, data_sealed) == sample(NeedsClarified)
    with pytest.raises(ValidationError):
        ActivityPublished.model_validate(data)


def test_events_are_immutable():
    event = sample(NeedsClarified)
    with pytest.raises(ValidationError):
        event.guide_id = "guide-8"  # type: ignore[misc]


def test_ucla_total_is_serialised_and_checked_when_read_back():
    score = UclaScore(lack_companionship=3, left_out=2, isolated=1)
    assert json.loads(score.model_dump_json())["total"] == 6
    assert UclaScore.model_validate_json(score.model_dump_json()) == score
    with pytest.raises(ValidationError, match="not the sum"):
        UclaScore.model_validate({"lack_companionship": 3, "left_out": 2, "isolated": 1, "total": 9})


# Envelope headers, for any values a producer may write ---------------------------------------

_text = st.characters(blacklist_categories=("Cs",))  # a Kafka header value is UTF-8: no lone surrogates
_segment = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=64)
_moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)).flatmap(
    lambda moment: st.builds(
        lambda minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
        st.integers(min_value=-23 * 60, max_value=23 * 60),
    )
)


@given(
    event_id=st.text(_text, min_size=1, max_size=200),
    partnership=_segment,
    org=_segment,
    service=st.from_regex(r"[a-z]{1,20}", fullmatch=True),
    event_type=st.sampled_from(sorted(EVENTS_BY_TYPE)),
    time=_moments,
    subject=st.text(_text, min_size=1, max_size=200),
    traceparent=st.none() | st.from_regex(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]", fullmatch=True),
    as_bytes=st.booleans(),
)
def test_envelope_headers_round_trip(
    event_id, partnership, org, service, event_type, time, subject, traceparent, as_bytes
):
    envelope = Envelope(
        id=event_id,
        source=f"/partnerships/{partnership}/orgs/{org}/{service}",
        type=event_type,
        time=time,
        subject=subject,
        partnership=partnership,
        org=org,
        traceparent=traceparent,
    )
    headers = envelope.to_headers()
    assert all(isinstance(value, bytes) for _, value in headers)
    if not as_bytes:  # some clients hand headers over already decoded
        headers = [(key, value.decode()) for key, value in headers]
    received = Envelope.from_headers(headers)
    assert received == envelope
    assert received.time.tzinfo is not None and received.time.utcoffset() == timedelta(0)


def test_envelope_refuses_missing_and_foreign_headers():
    envelope = Envelope.for_event(sample(NeedsClarified), partnership="varde", org="varde-kommune", service="journey")
    headers = envelope.to_headers()
    with pytest.raises(EnvelopeError, match="ce_type"):
        Envelope.from_headers([h for h in headers if h[0] != "ce_type"])
    with pytest.raises(EnvelopeError, match="specversion"):
        Envelope.from_headers([(k, b"0.3" if k == "ce_specversion" else v) for k, v in headers])
    # Without the extension headers the partnership and org come from ce_source.
    bare = Envelope.from_headers([h for h in headers if h[0] not in ("ce_partnership", "ce_org")])
    assert (bare.partnership, bare.org) == ("varde", "varde-kommune")
    assert envelope.time <= datetime.now(UTC)
