"""Property tests of scoring: bounded, monotone in shared interests, hard constraints never violated."""

from __future__ import annotations

import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.domain.assignment import assign_optimal
from matching.domain.geo import Point, haversine_km
from matching.domain.model import DAYS, PARTS, Candidate, CitizenProfile, Kind, Preferences, Slot, Traits
from matching.domain.scoring import REACH_FACTORS, CandidatePool, CitizenBlock, assess, rank, reach_km, score_block
from matching.domain.taxonomy import CODES

interests = st.frozensets(st.sampled_from(CODES), min_size=1, max_size=6)
languages = st.frozensets(st.sampled_from(["da", "sv", "en", "ar"]), min_size=1, max_size=2)
timetable = st.frozensets(st.builds(Slot, st.sampled_from(DAYS), st.sampled_from(PARTS)), max_size=6)
points = st.one_of(st.none(), st.builds(Point, st.floats(55.0, 57.0), st.floats(8.0, 10.0)))
orgs = st.sampled_from(["red-cross", "abf", "varde-kommune"])

citizens = st.builds(
    CitizenProfile,
    citizen_id=st.builds(uuid.uuid4),
    consented_orgs=st.frozensets(orgs, min_size=1),
    interests=interests,
    languages=languages,
    postal_code=st.just("6800"),
    location=points,
    barriers=st.frozensets(st.sampled_from([*REACH_FACTORS, "money"])),
    max_travel_km=st.floats(0, 60),
    needs_step_free=st.booleans(),
    wants_accompaniment=st.booleans(),
    availability=timetable,
    age_band=st.sampled_from([None, "65-74", "75-84"]),
    preferences=st.builds(Preferences, gender=st.sampled_from([None, "female", "male"]), non_smoker=st.booleans(),
                          no_pets=st.booleans(), similar_age=st.booleans()),
)
traits = st.builds(Traits, gender=st.sampled_from([None, "female", "male", "other"]),
                   age_band=st.sampled_from([None, "65-74", "75-84"]), smokes=st.sampled_from([None, True, False]),
                   has_pets=st.sampled_from([None, True, False]))
candidates = st.builds(
    Candidate,
    candidate_id=st.builds(uuid.uuid4),
    kind=st.sampled_from(Kind),
    org=orgs,
    interests=st.frozensets(st.sampled_from(CODES), max_size=6),
    languages=st.frozensets(st.sampled_from(["da", "sv", "en"]), max_size=2),
    location=points,
    travel_km=st.floats(0, 30),
    capacity_left=st.one_of(st.none(), st.integers(0, 3)),
    trained=st.booleans(),
    step_free=st.booleans(),
    accompaniment_welcome=st.booleans(),
    availability=timetable,
    traits=st.one_of(st.none(), traits),
)


@given(citizens, candidates)
def test_score_is_between_zero_and_one(who: CitizenProfile, candidate: Candidate) -> None:
    assert 0.0 <= assess(who, candidate).score <= 1.0


@given(citizens, candidates, st.sampled_from(CODES))
def test_score_is_monotone_in_shared_interests(who: CitizenProfile, candidate: Candidate, extra: str) -> None:
    richer = Candidate(**{**candidate.__dict__, "interests": candidate.interests | {extra}})
    before, after = assess(who, candidate).score, assess(who, richer).score
    assert after >= before
    if extra in who.interests and extra not in candidate.interests:
        assert after > before


@settings(max_examples=60)
@given(citizens, st.lists(candidates, max_size=12))
def test_ranked_candidates_never_violate_a_hard_constraint(who: CitizenProfile, pool: list[Candidate]) -> None:
    for judged in rank(who, pool, limit=len(pool) or 1):
        k = judged.candidate
        assert k.org in who.consented_orgs
        assert not k.languages or k.languages & who.languages
        assert k.capacity_left is None or k.capacity_left >= 1
        assert k.trained
        if who.needs_step_free:
            assert k.step_free
        if who.wants_accompaniment:
            assert k.accompaniment_welcome
        if who.location is not None and k.location is not None:
            reach = max(reach_km(who.max_travel_km, who.barriers), k.travel_km)
            assert haversine_km(who.location, k.location) <= reach + 1e-9


@settings(max_examples=40)
@given(st.lists(citizens, min_size=1, max_size=6), st.lists(candidates, min_size=1, max_size=6))
def test_batch_assignment_respects_capacity_and_eligibility(group: list[CitizenProfile], pool: list[Candidate]) -> None:
    candidate_pool = CandidatePool.of(pool)
    scores = score_block(CitizenBlock.of(group, candidate_pool), candidate_pool)
    capacity = np.array([3 if k.capacity_left is None else k.capacity_left for k in pool])
    pairs = assign_optimal(scores.score, scores.eligible, capacity)
    assert all(scores.eligible[c, v] for c, v in pairs)
    assert len({c for c, _ in pairs}) == len(pairs)  # one volunteer per citizen
    for v in range(len(pool)):
        assert sum(1 for _, w in pairs if w == v) <= capacity[v]


@settings(max_examples=60)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_pruned_batch_reaches_the_exact_optimum_of_the_full_problem(citizens_n: int, volunteers_n: int, seed: int) -> None:
    from scipy.optimize import linear_sum_assignment

    from matching.domain.assignment import slot_owners, total_score

    rng = np.random.default_rng(seed)
    score = rng.random((citizens_n, volunteers_n))
    eligible = rng.random((citizens_n, volunteers_n)) < 0.5
    capacity = rng.integers(0, 4, size=volunteers_n)
    owners = slot_owners(capacity)
    if owners.size:
        gain = np.where(eligible, score, 0.0)[:, owners]
        rows, cols = linear_sum_assignment(gain, maximize=True)
        optimum = float(gain[rows, cols].sum())
    else:
        optimum = 0.0
    assert abs(total_score(score, assign_optimal(score, eligible, capacity)) - optimum) < 1e-9
