"""Unit tests of the pure rules: taxonomy, distances, hard constraints, reasons, groups, assignment."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from matching.adapters.postal_codes import centroids, locate
from matching.domain import taxonomy
from matching.domain.assignment import assign_greedy, assign_optimal, total_score
from matching.domain.geo import Point, haversine_km
from matching.domain.groups import ProposedGroup, plan_group
from matching.domain.model import Candidate, CitizenProfile, Kind, Preferences, Traits, Wish
from matching.domain.scoring import Exclusion, assess, rank, reach_km, slots

VARDE = Point(55.621, 8.481)


def citizen(**kw) -> CitizenProfile:  # noqa: ANN003
    values = dict(citizen_id=uuid.uuid4(), consented_orgs=frozenset({"red-cross"}),
                  interests=frozenset({"walking", "baking_and_cooking"}), languages=frozenset({"da"}),
                  postal_code="6800", location=VARDE, max_travel_km=10.0)
    values.update(kw)
    return CitizenProfile(**values)


def friend(**kw) -> Candidate:  # noqa: ANN003
    values = dict(candidate_id=uuid.uuid4(), kind=Kind.volunteer_friend, org="red-cross",
                  interests=frozenset({"walking"}), languages=frozenset({"da"}), location=VARDE,
                  travel_km=10.0, capacity_left=1)
    values.update(kw)
    return Candidate(**values)


def place(**kw) -> Candidate:  # noqa: ANN003
    values = dict(candidate_id=uuid.uuid4(), kind=Kind.activity, org="red-cross", interests=frozenset({"walking"}),
                  languages=frozenset(), location=VARDE, name="Gåfællesskab", step_free=False)
    values.update(kw)
    return Candidate(**values)


@pytest.mark.parametrize(("word", "code"), [
    ("walking", "walking"), ("Gåtur", "walking"), ("promenad", "walking"),
    ("swimming", "swimming"), ("svømning", "swimming"), ("simning", "swimming"),
    ("coffee and conversation", "coffee_and_conversation"), ("kaffe og snak", "coffee_and_conversation"),
    ("fika och samtal", "coffee_and_conversation"), ("håndarbejde", "crafts"), ("slöjd", "crafts"),
    ("fællessang", "singing"), ("sång", "singing"), ("kortspil", "cards_and_games"), ("läsning", "reading"),
    ("havearbejde", "gardening"), ("trädgård", "gardening"), ("bagning", "baking_and_cooking"),
    ("matlagning", "baking_and_cooking"), ("museer", "museums"), ("kirkeliv", "church_life"),
    ("lokalhistoria", "local_history"), ("dyr", "animals"), ("djur", "animals"), ("maleri", "painting"),
    ("musik", "music"), ("dans", "dancing"), ("fiske", "fishing"), ("it-hjælp", "help_with_technology"),
    ("Hjälp med teknik", "help_with_technology"), ("help_with_technology", "help_with_technology"),
])
def test_words_in_three_languages_map_to_one_code(word: str, code: str) -> None:
    assert taxonomy.interest_code(word) == code


def test_unknown_interest_names_the_word_and_duplicates_collapse() -> None:
    with pytest.raises(taxonomy.UnknownInterest, match="curling"):
        taxonomy.interest_code("curling")
    assert taxonomy.interest_codes(["gåtur", "promenad", "walking", "svømning"]) == ["walking", "swimming"]
    assert taxonomy.label("swimming", "sv") == "simning"
    assert taxonomy.canonical("baking") == "baking_and_cooking" and taxonomy.canonical("curling") == "curling"


def test_postal_centroids_and_haversine() -> None:
    table = centroids()
    assert {"6800", "7500", "6700", "6950", "6840", "6870", "84330", "84331", "83130"} <= table.keys()
    assert haversine_km(table["6800"], table["6700"]) == pytest.approx(17.5, abs=2)  # Varde-Esbjerg
    assert haversine_km(table["6800"], table["7500"]) == pytest.approx(83, abs=5)   # Varde-Holstebro
    assert haversine_km(VARDE, VARDE) == 0
    assert locate("9999") is None
    assert locate("9999", 1.0, 2.0) == Point(1.0, 2.0)


def test_barriers_shrink_the_reach() -> None:
    assert reach_km(10, []) == 10
    assert reach_km(10, ["transport"]) == 5
    assert reach_km(10, ["transport", "mobility"]) == pytest.approx(3)
    assert reach_km(10, ["money"]) == 10


@pytest.mark.parametrize(("who", "candidate", "exclusion"), [
    (citizen(consented_orgs=frozenset({"abf"})), friend(), Exclusion.not_consented),
    (citizen(), friend(languages=frozenset({"sv"})), Exclusion.no_common_language),
    (citizen(), friend(capacity_left=0), Exclusion.no_capacity),
    (citizen(), friend(trained=False), Exclusion.not_trained),
    (citizen(), friend(location=Point(56.09, 8.244), travel_km=5), Exclusion.out_of_reach),
    (citizen(barriers=frozenset({"transport"})), place(location=Point(55.648, 8.383)), Exclusion.out_of_reach),
    (citizen(needs_step_free=True), place(), Exclusion.not_step_free),
    (citizen(wants_accompaniment=True), place(accompaniment_welcome=False), Exclusion.accompaniment_not_welcome),
    (citizen(), place(languages=frozenset({"en"}), step_free=True), Exclusion.no_common_language),
    (citizen(), place(capacity_left=0), Exclusion.no_capacity),
])
def test_each_hard_constraint_excludes(who: CitizenProfile, candidate: Candidate, exclusion: Exclusion) -> None:
    judged = assess(who, candidate)
    assert list(judged.exclusions) == [exclusion]
    assert rank(who, [candidate]) == []


def test_volunteer_may_come_further_than_the_citizen_can_go() -> None:
    housebound = citizen(max_travel_km=1.0, barriers=frozenset({"mobility"}))
    near_enough = friend(location=Point(55.66, 8.48), travel_km=10)  # about 4.3 km
    assert assess(housebound, near_enough).eligible
    assert not assess(housebound, place(location=Point(55.66, 8.48))).eligible


def test_reasons_are_human_readable() -> None:
    who = citizen(availability=slots([("tue", "morning")]), needs_step_free=True)
    a = assess(who, friend(interests=frozenset({"baking_and_cooking"}), location=Point(55.632, 8.481),
                           availability=slots([("tue", "morning"), ("sat", "evening")])))
    assert a.reasons == ["both enjoy baking and cooking", "1 km away", "both free on Tuesday mornings", "both speak Danish"]
    b = assess(who, place(step_free=True, practice_community=True, availability=slots([("tue", "morning")])))
    assert "an activity for walking" in b.reasons and "step-free access" in b.reasons
    assert "meets on Tuesday mornings, when the citizen is free" in b.reasons


def test_preferences_rank_but_never_exclude() -> None:
    who = citizen(age_band="75-84", preferences=Preferences(gender="female", non_smoker=True, similar_age=True))
    liked = friend(traits=Traits(gender="female", smokes=False, age_band="75-84"))
    other = friend(traits=Traits(gender="male", smokes=True, age_band="25-34"))
    unknown = friend(traits=Traits())
    ranked = rank(who, [other, unknown, liked])
    assert [a.candidate for a in ranked] == [liked, unknown, other]
    assert {"a woman, as wished", "a non-smoker, as wished", "of a similar age (75-84)"} <= set(ranked[0].reasons)
    # For someone who stated nothing, traits change nothing.
    assert assess(citizen(), liked).score == assess(citizen(), other).score


def test_reasons_in_danish_and_swedish() -> None:
    who = citizen(availability=slots([("tue", "morning")]), age_band="75-84",
                  preferences=Preferences(gender="female", similar_age=True))
    volunteer = friend(interests=frozenset({"baking_and_cooking", "walking"}), location=Point(55.632, 8.481),
                       availability=slots([("tue", "morning")]), traits=Traits(gender="female", age_band="75-84"))
    assert rank(who, [volunteer], language="da")[0].reasons == [
        "begge holder af bagning og madlavning og gåture", "1 km væk", "begge er ledige tirsdag formiddag",
        "begge taler dansk", "en kvinde, som ønsket", "på samme alder (75-84)"]
    assert rank(who, [volunteer], language="sv")[0].reasons == [
        "båda tycker om bakning och matlagning och promenader", "1 km bort", "båda är lediga tisdag förmiddag",
        "båda talar danska", "en kvinna, som önskat", "i samma ålder (75-84)"]
    unplaced = citizen(location=None, postal_code="9999")
    assert "afstand ukendt: postnummer 9999 findes ikke i tabellen" in rank(unplaced, [friend()], language="da")[0].reasons


def test_rank_orders_by_score_and_skips_earlier_proposals() -> None:
    who = citizen()
    best, second = friend(interests=frozenset({"walking", "baking_and_cooking"})), friend()
    assert [a.candidate for a in rank(who, [second, best])] == [best, second]
    assert [a.candidate for a in rank(who, [second, best], exclude=frozenset({best.candidate_id}))] == [second]


def test_new_group_when_nearby_citizens_share_an_interest_nothing_serves() -> None:
    group_wish = frozenset({Wish.group})
    anna, bo, carl = (citizen(interests=frozenset({"walking"}), wishes=group_wish) for _ in range(3))
    far = citizen(interests=frozenset({"walking"}), wishes=group_wish, location=Point(56.36, 8.616))
    plan = plan_group(anna, [anna, bo, carl, far], activities=[])
    assert plan is not None and plan.interest == "walking" and plan.group_proposal_id is None
    assert set(plan.members) == {anna.citizen_id, bo.citizen_id, carl.citizen_id}
    assert plan_group(anna, [anna, bo], activities=[place()]) is None  # a walking group exists nearby
    assert plan_group(anna, [anna], activities=[]) is None
    assert plan_group(far, [anna, bo, far], activities=[]) is None


def test_newcomer_joins_a_group_proposed_before_until_it_has_five() -> None:
    walkers = [citizen(interests=frozenset({"walking"}), wishes=frozenset({Wish.group})) for _ in range(6)]
    earlier = ProposedGroup(uuid.uuid4(), "walking", "6800", (walkers[0].citizen_id, walkers[1].citizen_id))
    plan = plan_group(walkers[2], walkers[:3], activities=[], proposed=[earlier])
    assert plan is not None and plan.group_proposal_id == earlier.group_proposal_id
    assert plan.members == (walkers[0].citizen_id, walkers[1].citizen_id, walkers[2].citizen_id)
    full = ProposedGroup(uuid.uuid4(), "walking", "6800", tuple(w.citizen_id for w in walkers[:5]))
    assert plan_group(walkers[5], walkers, activities=[], proposed=[full]) is None
    assert plan_group(walkers[0], walkers, activities=[], proposed=[earlier]) is None  # already in one


def test_optimal_assignment_beats_arrival_order_and_respects_capacity() -> None:
    # The first citizen could take either volunteer; the second fits only volunteer 0.
    score = np.array([[0.9, 0.8], [0.85, 0.1]])
    eligible = np.array([[True, True], [True, False]])
    capacity = np.array([1, 1])
    greedy = assign_greedy(score, eligible, capacity)
    optimal = assign_optimal(score, eligible, capacity)
    assert greedy == [(0, 0)]
    assert sorted(optimal) == [(0, 1), (1, 0)]
    assert total_score(score, optimal) > total_score(score, greedy)
    two_slots = assign_optimal(score, eligible, np.array([2, 0]))
    assert sorted(two_slots) == [(0, 0), (1, 0)]
