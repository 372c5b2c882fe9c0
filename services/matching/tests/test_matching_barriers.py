"""Barriers that count (issue 15 case 4), as pure rules: money, hearing, language and transport.
Each failed before: cost was dropped before scoring, hearing and language needs changed nothing."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import TransportNeed
from brobygger_contracts.reason_texts import render_all
from matching.domain.barriers import transport_need
from matching.domain.geo import Point
from matching.domain.model import Candidate, CitizenProfile, Kind
from matching.domain.scoring import Exclusion, assess, rank

VARDE = Point(55.621, 8.481)
OKSBOL = Point(55.627, 8.283)  # about 12 km west of Varde


def citizen(*barriers: str, **kw) -> CitizenProfile:  # noqa: ANN003
    values = dict(citizen_id=uuid.uuid4(), consented_orgs=frozenset({"red-cross"}), interests=frozenset({"walking"}),
                  languages=frozenset({"da"}), postal_code="6800", location=VARDE, max_travel_km=40.0,
                  barriers=frozenset(barriers))
    values.update(kw)
    return CitizenProfile(**values)


def place(name: str, **kw) -> Candidate:  # noqa: ANN003
    values = dict(candidate_id=uuid.uuid4(), kind=Kind.activity, org="red-cross", interests=frozenset({"walking"}),
                  languages=frozenset(), location=VARDE, name=name)
    values.update(kw)
    return Candidate(**values)


def test_money_barrier_never_gets_paid_only_and_gets_free_before_subsidised_before_a_better_score():
    paid = place("paid", cost_dkk=250.0, interests=frozenset({"walking", "museums"}))
    subsidised = place("subsidised", cost_dkk=250.0, reduced_cost_dkk=25.0)
    free = place("free", cost_dkk=0.0, location=OKSBOL)  # further away: a lower score
    poor = citizen("money", interests=frozenset({"walking", "museums"}))
    assert [a.candidate.name for a in rank(poor, [paid, subsidised, free])] == ["free", "subsidised"]
    assert Exclusion.paid_only in assess(poor, paid).exclusions
    chosen = rank(poor, [subsidised])[0]
    assert "subsidised price: 25 kr" in chosen.reasons
    # Without the barrier the best fit comes first and shows its full price.
    best = rank(citizen(interests=frozenset({"walking", "museums"})), [paid, subsidised, free])[0]
    assert best.candidate.name == "paid" and "costs 250 kr" in best.reasons


def test_hearing_barrier_prefers_a_hearing_loop():
    loop = place("loop", hearing_loop=True, location=OKSBOL)
    nearer = place("nearer")
    assert [a.candidate.name for a in rank(citizen(), [loop, nearer])] == ["nearer", "loop"]
    ranked = rank(citizen("hearing"), [loop, nearer])
    assert [a.candidate.name for a in ranked] == ["loop", "nearer"]
    assert "has a hearing loop" in ranked[0].reasons


def test_an_activity_not_speaking_the_citizens_language_is_not_proposed_unless_an_interpreter_can_be_arranged():
    arabic = citizen("language", languages=frozenset({"ar"}))
    danish_only = place("danish", languages=frozenset({"da"}))
    interpreted = place("interpreted", languages=frozenset({"da"}), interpreter_available=True)
    assert [a.candidate.name for a in rank(arabic, [danish_only, interpreted])] == ["interpreted"]
    assert Exclusion.no_common_language in assess(arabic, danish_only).exclusions
    assert "an interpreter can be arranged" in rank(arabic, [interpreted])[0].reasons


def test_transport_need_follows_the_barrier_and_the_distance():
    near, far = place("near"), place("far", location=OKSBOL)
    assert transport_need(citizen(), near, 0.0) is None
    assert transport_need(citizen("transport"), near, 0.0) is TransportNeed.accompanied_bus_ride
    assert transport_need(citizen("transport"), far, 12.0) is TransportNeed.flex_transport
    assert transport_need(citizen("distance"), far, None) is TransportNeed.flex_transport
    assert transport_need(citizen("transport", "mobility"), near, 0.0) is TransportNeed.volunteer_driver
    friend = place("friend", kind=Kind.volunteer_friend, travel_km=10.0, capacity_left=1)
    assert transport_need(citizen("transport"), friend, 0.0) is None  # the volunteer comes to the citizen
    chosen = rank(citizen("transport"), [far])[0]
    assert [r.as_json() for r in chosen.reason_codes][-1] == {"code": "transport", "params": {"need": "flex_transport"}}
    assert render_all([chosen.reason_codes[-1]], "da") == ["transport: flextur (guiden bestiller den)"]


def test_a_spreadsheet_row_carries_the_barrier_attributes():
    from matching.entrypoints import csv_import

    parsed = csv_import.parse("name;interests;postal_code;cost_dkk;reduced_cost_dkk;hearing_loop;interpreter_available\n"
                              "Promenad och fika;promenad|fika;6800;120,50;0;ja;nej\n")
    assert parsed.errors == []
    (_line, row), = parsed.rows
    assert (row.interests, row.cost_dkk, row.reduced_cost_dkk) == (["walking", "coffee_and_conversation"], 120.5, 0.0)
    assert row.hearing_loop is True and row.interpreter_available is False
