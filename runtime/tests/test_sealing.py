"""AES-256-GCM sealing and the citizen-key cache, without broker or database."""

from __future__ import annotations

import base64
import json

import pytest

from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.events.referral import CitizenErased, ConsentChanged
from brobygger_contracts.examples import CITIZEN, OTHER, sample_opened
from brobygger_contracts.sealed import associated_data
from brobygger_runtime.citizen_keys import CitizenKeys, FixedKeys, KeyCache
from brobygger_runtime.sealing import SealBroken, new_data_key, open_box, open_event, seal, seal_event

KEY = new_data_key()


def test_a_sealed_event_opens_with_its_key_and_shows_nothing_in_clear():
    event = sample_opened(NeedsClarified)
    sealed = seal_event(event, KEY)
    wire = sealed.model_dump_json()
    assert "6800" not in wire and "transport" not in wire and "baking" not in wire
    received = NeedsClarified.model_validate_json(wire)
    assert open_event(received, KEY).opened == event.opened
    assert len(base64.b64decode(sealed.sealed.nonce)) == 12


def test_every_seal_has_a_fresh_nonce():
    event = sample_opened(NeedsClarified)
    assert seal_event(event, KEY).sealed.nonce != seal_event(event, KEY).sealed.nonce


def test_a_tampered_box_does_not_open():
    sealed = seal_event(sample_opened(NeedsClarified), KEY)
    raw = bytearray(base64.b64decode(sealed.sealed.ciphertext))
    raw[3] ^= 0x01
    tampered = sealed.with_box(sealed.sealed.model_copy(update={"ciphertext": base64.b64encode(raw).decode()}))
    with pytest.raises(SealBroken, match="does not open"):
        open_event(tampered, KEY)


def test_a_box_does_not_open_with_another_key():
    sealed = seal_event(sample_opened(NeedsClarified), KEY)
    with pytest.raises(SealBroken):
        open_event(sealed, new_data_key())


def test_a_box_moved_to_another_citizen_or_event_type_does_not_open():
    sealed = seal_event(sample_opened(NeedsClarified), KEY)
    moved = json.loads(sealed.model_dump_json())
    moved["citizen_id"] = OTHER
    with pytest.raises(SealBroken):
        open_event(NeedsClarified.model_validate(moved), KEY)
    part = sealed.opened
    box = seal(part, KEY, associated_data(NeedsClarified.event_type(), CITIZEN))
    with pytest.raises(SealBroken):
        open_box(box, KEY, associated_data("org.brobygger.journey.JourneyCompleted.v1", CITIZEN), type(part))
    assert open_box(box, KEY, associated_data(NeedsClarified.event_type(), CITIZEN), type(part)) == part


def test_the_cache_is_bounded_and_keys_expire():
    now = [0.0]
    cache = KeyCache(size=2, ttl=10, clock=lambda: now[0])
    cache.put("a", b"1" * 32)
    cache.put("b", b"2" * 32)
    assert cache.get("a")  # a used last: b goes first
    cache.put("c", b"3" * 32)
    assert "b" not in cache and "a" in cache and "c" in cache
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 1


async def test_one_call_for_all_missing_keys_and_none_for_cached_ones():
    source = FixedKeys(derive=lambda cid: cid.encode().ljust(32, b"k")[:32])
    source.withheld.add("withheld")
    keys = CitizenKeys(source, KeyCache(100, 60), own_org="red-cross")
    found = await keys.keys_for(["a", "b", "withheld", "a"])
    assert set(found) == {"a", "b"} and source.calls == 1
    await keys.keys_for(["a", "b"])
    assert source.calls == 1
    await keys.keys_for(["withheld"])  # a withheld key is not remembered as withheld: consent may come
    assert source.calls == 2


async def test_withdrawn_consent_and_erasure_drop_the_cached_key():
    cache = KeyCache(100, 60)
    keys = CitizenKeys(FixedKeys(derive=lambda cid: b"k" * 32), cache, own_org="red-cross")
    await keys.keys_for([CITIZEN, OTHER])
    when = "2025-03-04T10:15:30Z"
    keys.observe(ConsentChanged(citizen_id=CITIZEN, consented_orgs=["red-cross", "abf"], changed_at=when))
    assert CITIZEN in cache  # still named
    keys.observe(ConsentChanged(citizen_id=CITIZEN, consented_orgs=["varde-kommune"], removed=["red-cross"],
                                changed_at=when))
    assert CITIZEN not in cache
    keys.observe(CitizenErased(citizen_id=OTHER, erased_at=when))
    assert OTHER not in cache
