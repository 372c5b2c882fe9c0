"""Pure rules of the referral service: age bands, who is the same person, consent, status, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brobygger_contracts.events.referral import ReferralReceived, TriageDecision
from brobygger_runtime.auth import Caller, Role
from referral.domain.access import may_change_consent, may_open_citizen, may_read_contact, may_submit_as, submitted
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


def _caller(org: str, *roles: Role, subject: str = "someone") -> Caller:
    return Caller(subject=subject, organisation=org, roles=frozenset(roles), issuer=f"https://id.example/{org}")


def test_access_rules():
    owner_coordinator = _caller("varde-kommune", Role.coordinator)
    owner_guide = _caller("varde-kommune", Role.guide)
    home_care = _caller("varde-kommune", Role.referrer, subject="nurse-1")
    red_cross_guide = _caller("red-cross", Role.guide)
    red_cross_coordinator = _caller("red-cross", Role.coordinator)
    abf_referrer = _caller("abf", Role.referrer)
    notify = _caller("red-cross", Role.service)
    steering = _caller("varde-kommune", Role.steering)
    consent = ["varde-kommune", "red-cross"]
    # Opening a citizen: staff within the consent; the owning coordinator every referral; no referrer.
    assert may_open_citizen(owner_coordinator, "varde-kommune", ["abf"])
    assert not may_open_citizen(owner_guide, "varde-kommune", ["abf"]) and may_open_citizen(owner_guide, "varde-kommune", consent)
    assert may_open_citizen(red_cross_guide, "varde-kommune", consent) and not may_open_citizen(red_cross_guide, "varde-kommune", ["abf"])
    assert not may_open_citizen(home_care, "varde-kommune", consent) and not may_open_citizen(notify, "varde-kommune", consent)
    # The submitter is the person, not the organisation.
    assert submitted(home_care, "varde-kommune", "nurse-1") and not submitted(home_care, "varde-kommune", "nurse-2")
    assert not submitted(home_care, "abf", "nurse-1") and not submitted(home_care, "varde-kommune", None)
    # Submitting: own organisation's cards (or a relative's); the owning staff any card.
    assert may_submit_as(home_care, "varde-kommune", "varde-kommune") and may_submit_as(abf_referrer, "varde-kommune", None)
    assert not may_submit_as(abf_referrer, "varde-kommune", "varde-kommune")
    assert may_submit_as(owner_guide, "varde-kommune", "red-cross") and not may_submit_as(red_cross_guide, "varde-kommune", "abf")
    assert not may_submit_as(notify, "varde-kommune", None) and not may_submit_as(steering, "varde-kommune", None)
    # Contact details and consent: only within the consent.
    assert may_read_contact(notify, ["red-cross"]) and not may_read_contact(notify, ["varde-kommune"])
    assert may_read_contact(red_cross_coordinator, consent) and not may_read_contact(red_cross_guide, consent)
    assert not may_read_contact(home_care, consent)
    assert may_change_consent(red_cross_coordinator, consent) and not may_change_consent(red_cross_coordinator, ["abf"])
    assert not may_change_consent(owner_guide, consent)
