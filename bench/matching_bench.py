"""Matching benchmark: rank one citizen against a large registry, and a 5,000 x 5,000 batch assignment.

Run: .venv/bin/python bench/matching_bench.py [--seed N]

Prints
- the time to rank 50,000 volunteers and 5,000 activities for one citizen (hard constraints,
  score, top candidates with reasons), against registries held in memory as numpy columns;
- the time of a batch assignment of 5,000 waiting citizens to 5,000 volunteer slots
  (2,000 volunteers of capacity 1-4), split into scoring and solving;
- the batch's total score as a fraction of the exact optimum (scipy's linear_sum_assignment
  on the same instance) and of a greedy arrival-order baseline.
The instance is synthetic but shaped like the seeds: West Jutland and Jämtland postal
areas, interests from the taxonomy, reaches of a few km shrunk by transport barriers.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import numpy as np

from matching.adapters.postal_codes import centroids
from matching.domain.assignment import assign_greedy, assign_optimal, slot_owners, total_score
from matching.domain.geo import Point
from matching.domain.model import DAYS, PARTS, Candidate, CitizenProfile, Kind, Slot, Wish
from matching.domain.scoring import CandidatePool, CitizenBlock, rank_in_pool, score_block
from matching.domain.taxonomy import CODES

AREAS = [p for code, p in centroids().items() if code.startswith(("67", "68", "69", "74", "75"))]
ALL_SLOTS = [Slot(d, p) for d in DAYS for p in PARTS]
LANGUAGES = ["da", "da", "da", "da", "sv", "en", "ar"]


def _near_area(rng: np.random.Generator) -> Point:
    area = AREAS[rng.integers(len(AREAS))]
    return Point(area.latitude + rng.normal(0, 0.02), area.longitude + rng.normal(0, 0.03))


def _some(rng: np.random.Generator, items: list, low: int, high: int) -> frozenset:
    return frozenset(items[i] for i in rng.choice(len(items), size=rng.integers(low, high + 1), replace=False))


def make_citizen(rng: np.random.Generator) -> CitizenProfile:
    return CitizenProfile(
        citizen_id=uuid.uuid4(),
        consented_orgs=frozenset({"red-cross", "varde-kommune"}),
        interests=_some(rng, list(CODES), 1, 4),
        languages=frozenset({"da"}) if rng.random() < 0.85 else frozenset({str(rng.choice(["sv", "en", "ar"]))}),
        postal_code="6800",
        location=_near_area(rng),
        wishes=frozenset({Wish.friend, Wish.activity}),
        barriers=frozenset({"transport"}) if rng.random() < 0.4 else frozenset(),
        max_travel_km=float(rng.choice([5.0, 10.0, 15.0])),
        needs_step_free=bool(rng.random() < 0.2),
        availability=_some(rng, ALL_SLOTS, 0, 6),
    )


def make_volunteer(rng: np.random.Generator, capacity: int | None = None) -> Candidate:
    return Candidate(
        candidate_id=uuid.uuid4(), kind=Kind.volunteer_friend, org="red-cross",
        interests=_some(rng, list(CODES), 1, 5), languages=_some(rng, LANGUAGES, 1, 2), location=_near_area(rng),
        travel_km=float(rng.choice([3.0, 5.0, 10.0, 15.0])),
        capacity_left=int(capacity if capacity is not None else rng.integers(0, 4)),
        trained=bool(rng.random() < 0.9), availability=_some(rng, ALL_SLOTS, 1, 8),
    )


def make_activity(rng: np.random.Generator) -> Candidate:
    return Candidate(
        candidate_id=uuid.uuid4(), kind=Kind.activity, org=str(rng.choice(["varde-kommune", "abf", "red-cross"])),
        interests=_some(rng, list(CODES), 1, 3), languages=frozenset(), location=_near_area(rng),
        capacity_left=None if rng.random() < 0.3 else int(rng.integers(0, 15)),
        step_free=bool(rng.random() < 0.6), accompaniment_welcome=bool(rng.random() < 0.9),
        availability=_some(rng, ALL_SLOTS, 1, 3), name="activity",
    )


def bench_ranking(rng: np.random.Generator, repeats: int = 30) -> None:
    volunteers = [make_volunteer(rng) for _ in range(50_000)]
    activities = [make_activity(rng) for _ in range(5_000)]
    started = time.perf_counter()
    volunteer_pool, activity_pool = CandidatePool.of(volunteers), CandidatePool.of(activities)
    print(f"registry held in memory: 50,000 volunteers + 5,000 activities as numpy columns in {time.perf_counter() - started:.2f} s (once)")
    timings = []
    for _ in range(repeats):
        citizen = make_citizen(rng)
        started = time.perf_counter()
        friends = rank_in_pool(citizen, volunteer_pool, volunteers, limit=3)
        places = rank_in_pool(citizen, activity_pool, activities, limit=3)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"rank one citizen against 50,000 volunteers and 5,000 activities (top 3 each, with reasons): "
          f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms over {repeats} citizens")
    if friends:
        print(f"  e.g. best volunteer: score {friends[0].score:.2f}, reasons: {'; '.join(friends[0].reasons)}")
    if places:
        print(f"  e.g. best activity:  score {places[0].score:.2f}, reasons: {'; '.join(places[0].reasons)}")


def _capacities(rng: np.random.Generator, volunteers: int, slots: int) -> list[int]:
    capacity = rng.integers(1, 5, size=volunteers)
    while capacity.sum() != slots:  # nudge to exactly `slots` slots, keeping 1-4 each
        i = rng.integers(volunteers)
        if capacity.sum() > slots and capacity[i] > 1:
            capacity[i] -= 1
        elif capacity.sum() < slots and capacity[i] < 4:
            capacity[i] += 1
    return capacity.tolist()


def bench_batch(rng: np.random.Generator, citizens: int = 5_000, volunteers: int = 2_000, slots: int = 5_000) -> None:
    waiting = [make_citizen(rng) for _ in range(citizens)]  # in arrival order
    pool_members = [make_volunteer(rng, capacity=c) for c in _capacities(rng, volunteers, slots)]
    capacity = np.array([v.capacity_left for v in pool_members])
    assert slot_owners(capacity).size == slots

    started = time.perf_counter()
    pool = CandidatePool.of(pool_members)
    scores = score_block(CitizenBlock.of(waiting, pool), pool)
    eligible = scores.eligible
    scored = time.perf_counter()
    batch = assign_optimal(scores.score, eligible, capacity)
    solved = time.perf_counter()
    print(f"batch assignment, {citizens:,} waiting citizens x {slots:,} volunteer slots ({volunteers:,} volunteers): "
          f"{solved - started:.2f} s (scoring {scored - started:.2f} s, linear_sum_assignment {solved - scored:.2f} s)")
    print(f"  eligible pairs: {eligible.mean():.1%} of citizen x volunteer; citizens matched: {len(batch):,}")

    # The exact optimum, computed independently of the batch code: scipy on the slot-expanded matrix.
    from scipy.optimize import linear_sum_assignment

    owners = slot_owners(capacity)
    gain = np.where(eligible, scores.score, 0.0)[:, owners]
    rows, cols = linear_sum_assignment(gain, maximize=True)
    optimum = float(gain[rows, cols].sum())

    started = time.perf_counter()
    greedy = assign_greedy(scores.score, eligible, capacity)
    greedy_seconds = time.perf_counter() - started
    batch_total, greedy_total = total_score(scores.score, batch), total_score(scores.score, greedy)
    print(f"  total score: batch {batch_total:,.1f}, exact optimum {optimum:,.1f}, greedy arrival order {greedy_total:,.1f} "
          f"({len(greedy):,} matched, {greedy_seconds:.2f} s)")
    print(f"  batch / optimum = {batch_total / optimum:.2%}; batch / greedy = {batch_total / greedy_total:.3f}x "
          f"(greedy reaches {greedy_total / optimum:.2%} of the optimum)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bench_ranking(np.random.default_rng(args.seed))
    bench_batch(np.random.default_rng(args.seed + 1))


if __name__ == "__main__":
    main()
