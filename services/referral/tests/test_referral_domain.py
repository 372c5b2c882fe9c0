"""Pure rules of the referral service: age bands, who is the same person, consent, status, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brobygger_contracts.events.referral import ReferralReceived, TriageDecision
from referral.domain.access import Caller, Role, may_read_contact, may_read_referral, may_submit_as, parse_api_keys
from referral.domain.citizen import Whereabouts, age_band, name_key, normalise_address, normalise_name, same_person
from referral.domain.consent import change_consent
from referral.domain.errors import Refused
from referral.domain.status import Milestone, current_status
from referral.domain.triage import ReferralState, triage



@pytest.mark.parametrize(
    ("birth_year", "band"),
    [(2026, "00-17"), (2008, "18-29"), (1962, "55-64"), (1961, "65-74"), (1952, "65-74"), (1951, "75-84"), (1942, "75-84"), (1941, "85+"), (1900, "85+"), (2030, "unknown")],
)
def test_age_band(birth_year, band):
    assert age_band(birth_year, 2026) == band


@given(st.integers(min_value=1890, max_value=2100))
def test_every_age_band_is_valid_on_the_wire(birth_year):
    band = age_band(birth_year, 2026)
    ReferralReceived.model_validate(
        dict(referral_id="00000000-0000-0000-0000-000000000001", citizen_id="00000000-0000-0000-0000-000000000002",
             source="gp", postal_code="6800", age_band=band, consented_orgs=["x1"], received_at=datetime.now(UTC))
    )


def test_names_normalise_across_case_order_accents_and_punctuation():
    assert normalise_name("Hansen, Frida") == normalise_name("frida  HANSEN") == normalise_name("Frída Hansen")
    assert normalise_name("Åse Ølgaard") == normalise_name("ase ølgaard")
    assert normalise_name("Frida Hansen") != normalise_name("Frida Jensen")
    assert name_key(1942, "Frida Hansen") == name_key(1942, "HANSEN frida")
    assert name_key(1942, "Frida Hansen") != name_key(1943, "Frida Hansen")


@given(st.text(max_size=60))
def test_normalising_a_name_is_idempotent(name):
    once = normalise_name(name)
    assert normalise_name(once) == once


def test_same_person_by_address_else_postal_code():
    assert normalise_address("Storegade 12, 1. th") == normalise_address("storegade 12 1 TH")
    at_home = Whereabouts("6800", "Storegade 12")
    assert same_person(at_home, Whereabouts("6800", "storegade 12"))
    assert not same_person(at_home, Whereabouts("6800", "Vestergade 3"))
    assert same_person(at_home, Whereabouts("6800"))
    assert not same_person(Whereabouts("6800"), Whereabouts("7500"))


@given(st.lists(st.sampled_from(["a1", "b2", "c3", "d4"]), max_size=4), st.lists(st.sampled_from(["a1", "b2", "c3", "d4"]), max_size=4))
def test_consent_change_adds_and_removes_exactly_the_difference(before, after):
    change = change_consent(before, after)
    assert set(change.consented) == set(after)
    assert set(change.added) == set(after) - set(before)
    assert set(change.removed) == set(before) - set(after)
    assert change.changed == (set(before) != set(after))


def test_triage_happens_once():
    assert triage(ReferralState.received, TriageDecision.bridge) is ReferralState.bridging
    assert triage(ReferralState.received, TriageDecision.professional) is ReferralState.escalated
    assert triage(ReferralState.received, TriageDecision.declined) is ReferralState.declined
    with pytest.raises(Refused):
        triage(ReferralState.bridging, TriageDecision.declined)


def test_status_is_the_furthest_milestone_and_an_ending_is_final():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    at = [t0 + timedelta(days=i) for i in range(5)]
    assert current_status([]) is Milestone.received
    # out of order: the match arrives before the guide's contact
    assert current_status([(Milestone.received, at[0]), (Milestone.matched, at[1]), (Milestone.contacted, at[2])]) is Milestone.matched
    assert current_status([(Milestone.escalated, at[1]), (Milestone.contacted, at[2])]) is Milestone.escalated
    assert current_status([(Milestone.completed, at[3]), (Milestone.escalated, at[4])]) is Milestone.completed


def test_access_rules():
    owner_staff = Caller("varde-kommune", Role.staff, "k1")
    home_care = Caller("home-care", Role.referrer, "k2")
    red_cross = Caller("red-cross", Role.staff, "k3")
    notify = Caller("red-cross", Role.service, "k4")
    assert may_read_referral(owner_staff, "varde-kommune", "home-care")
    assert may_read_referral(home_care, "varde-kommune", "home-care")
    assert not may_read_referral(home_care, "varde-kommune", "gp-clinic")
    assert not may_read_referral(red_cross, "varde-kommune", "home-care")
    assert not may_read_referral(notify, "varde-kommune", "red-cross")
    assert may_submit_as(home_care, "varde-kommune", "home-care") and may_submit_as(home_care, "varde-kommune", None)
    assert not may_submit_as(home_care, "varde-kommune", "red-cross")
    assert may_submit_as(owner_staff, "varde-kommune", "red-cross")
    assert not may_submit_as(notify, "varde-kommune", None)
    assert may_read_contact(notify, ["red-cross"]) and not may_read_contact(notify, ["varde-kommune"])
    assert not may_read_contact(home_care, ["home-care"])


def test_api_keys_parse_and_reject_malformed_entries():
    keys = parse_api_keys(" varde-kommune:staff:s3cr:et , home-care:referrer:abc")
    assert keys["s3cr:et"] == Caller("varde-kommune", Role.staff, "varde-kommune:staff:1")
    assert keys["abc"].role is Role.referrer
    assert parse_api_keys("") == {}
    for bad in ("varde-kommune:staff", "x:boss:abc", "a1:staff:k,b2:staff:k"):
        with pytest.raises(ValueError):
            parse_api_keys(bad)
