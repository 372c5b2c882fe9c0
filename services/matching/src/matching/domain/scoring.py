"""Scoring: hard constraints exclude, soft ones rank, and every score comes with reasons.

One citizen is scored against a whole pool of candidates at once with numpy,
so that ranking tens of thousands of volunteers stays well under 50 ms; the
reasons are written only for the candidates actually shown.

score = 0.45 * shared interests + 0.25 * nearness + 0.2 * availability overlap
      + 0.1 * preferences met, each part in [0, 1], so the score is in [0, 1].
An unknown part (no location, no stated times, no stated preferences, an
activity where preferences about a person do not apply) counts 0.5: neither
a reason for nor against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Sequence
from uuid import UUID

import numpy as np

from matching.domain.barriers import HEARING, MONEY, CostTier
from matching.domain.columns import CandidatePool, CitizenBlock
from matching.domain.geo import REACH_FACTORS, Point, distance_grid, reach_km
from matching.domain.model import CitizenProfile, Candidate, Kind, Slot
from matching.domain.reasons import Reason, language_list, reason_codes

WEIGHT_INTERESTS = 0.45
WEIGHT_DISTANCE = 0.25
WEIGHT_AVAILABILITY = 0.2
WEIGHT_PREFERENCES = 0.1
UNKNOWN = 0.5

class Exclusion(str, Enum):
    """A hard constraint a candidate fails."""

    not_consented = "not_consented"
    no_common_language = "no_common_language"
    no_capacity = "no_capacity"
    not_trained = "not_trained"
    out_of_reach = "out_of_reach"
    not_step_free = "not_step_free"
    accompaniment_not_welcome = "accompaniment_not_welcome"
    paid_only = "paid_only"
    already_proposed = "already_proposed"
    no_common_channel = "no_common_channel"
    """A phone-only volunteer for a citizen who wishes to meet in person, or the other way round."""


def _preferences_met(block: CitizenBlock, pool: CandidatePool) -> np.ndarray:
    """How well the volunteer meets the citizen's stated preferences, (m, n) in [0, 1].

    Each stated preference counts 1 when met, 0 when not and 0.5 when the volunteer did
    not say; the part is unknown (0.5) where the citizen stated none or the candidate is an activity.
    """
    def agreement(stated: np.ndarray, wanted: np.ndarray, have: np.ndarray, unknown: np.ndarray) -> np.ndarray:
        value = np.where(unknown, np.float32(0.5), (have == wanted).astype(np.float32))
        return stated * value

    wanted_gender = block.wanted_gender[:, None]
    met = agreement(wanted_gender > 0, wanted_gender, pool.gender[None, :], pool.gender[None, :] == 0)
    met += agreement(block.non_smoker[:, None], 0, pool.smokes[None, :], pool.smokes[None, :] < 0)
    met += agreement(block.no_pets[:, None], 0, pool.has_pets[None, :], pool.has_pets[None, :] < 0)
    age = block.age[:, None]
    met += agreement(block.similar_age[:, None], age, pool.age[None, :], (age == 0) | (pool.age[None, :] == 0))
    met /= np.maximum(block.preferences_stated, 1).astype(np.float32)[:, None]
    applies = (block.preferences_stated[:, None] > 0) & pool.has_traits[None, :]
    return np.where(applies, met, np.float32(UNKNOWN))


def _overlap(a: np.ndarray, b_f32: np.ndarray) -> np.ndarray:
    """How many columns rows of `a` and rows of `b` share, as an (m, n) count."""
    if a.shape[1] == 0:
        return np.zeros((a.shape[0], b_f32.shape[0]), dtype=np.float32)
    return a.astype(np.float32) @ b_f32.T


@dataclass
class Scores:
    """Scores and hard-constraint verdicts of m citizens against n candidates, (m, n) each."""

    score: np.ndarray
    distance_km: np.ndarray     # NaN = unknown
    violations: dict[Exclusion, np.ndarray]
    by_phone: np.ndarray | None = None
    """True where the pair would meet by phone or video (a phone friend): distance does not apply."""

    @property
    def eligible(self) -> np.ndarray:
        ok = np.ones(self.score.shape, dtype=bool)
        for violated in self.violations.values():
            ok &= ~violated
        return ok


def score_block(block: CitizenBlock, pool: CandidatePool) -> Scores:
    """The one scoring rule, for many citizens at once (one row each); (m, n) arrays in float32."""
    m, n = len(block.ids), len(pool)
    # Soft: shared interests, as the share of the citizen's interests the candidate has.
    score = _overlap(block.interests, pool.interests_f32)
    score *= (WEIGHT_INTERESTS / np.maximum(block.interest_count, 1)).astype(np.float32)[:, None]

    # Soft and hard: distance against the reach (a volunteer may come to the citizen).
    distance = distance_grid(block.latitude, block.longitude, pool.latitude, pool.longitude)
    reach = np.maximum(block.reach_km[:, None], pool.travel_km[None, :]).astype(np.float32)
    beyond = distance > reach  # False where the distance is unknown (NaN)
    in_person, by_phone, no_channel = _channels(block, pool, beyond)
    out_of_reach = beyond & ~by_phone  # a phone friend meets by phone or video: distance does not apply
    nearness = 1.0 - distance / np.maximum(reach, np.float32(1e-6))
    np.clip(nearness, 0.0, 1.0, out=nearness)
    nearness[np.isnan(distance)] = UNKNOWN
    nearness[by_phone] = 1.0
    score += np.float32(WEIGHT_DISTANCE) * nearness
    del nearness, reach, in_person

    # Soft: availability overlap, as the share of the smaller timetable.
    overlap = _overlap(block.slots, pool.slots_f32)
    smaller = np.minimum(block.slots.sum(axis=1)[:, None], pool.slot_count[None, :]).astype(np.float32)
    availability = np.where(smaller > 0, overlap / np.maximum(smaller, 1), np.float32(UNKNOWN))
    score += np.float32(WEIGHT_AVAILABILITY) * availability
    del overlap, smaller, availability
    score += np.float32(WEIGHT_PREFERENCES) * _preferences_met(block, pool)
    np.clip(score, 0.0, 1.0, out=score)

    states_languages = pool.states_languages[None, :]
    common_language = _overlap(block.languages, pool.languages_f32) > 0
    violations = {
        Exclusion.not_consented: ~block.consent[:, pool.org_index] if n else np.zeros((m, 0), dtype=bool),
        Exclusion.no_common_language: states_languages & ~common_language & ~pool.interpreter[None, :],
        Exclusion.no_capacity: np.broadcast_to(pool.capacity_left < 1, (m, n)),
        Exclusion.not_trained: np.broadcast_to(~pool.trained, (m, n)),
        Exclusion.out_of_reach: out_of_reach,
        Exclusion.not_step_free: block.needs_step_free[:, None] & ~pool.step_free[None, :],
        Exclusion.accompaniment_not_welcome: block.wants_accompaniment[:, None] & ~pool.accompaniment_welcome[None, :],
        Exclusion.paid_only: block.money[:, None] & (pool.cost_tier == CostTier.paid_only)[None, :],
        Exclusion.no_common_channel: no_channel,
    }
    return Scores(score=score, distance_km=distance, violations=violations, by_phone=by_phone)


def _channels(block: CitizenBlock, pool: CandidatePool, beyond: np.ndarray) -> tuple[np.ndarray, ...]:
    """How each pair would meet, (m, n) each: in person, by phone, or not at all (no channel both accept).

    A pair meets by phone only where the citizen wishes a phone friend, the volunteer is ready for that
    role, and meeting in person is not possible or out of reach; activities always meet in person.
    """
    wants_in_person = block.wants_in_person[:, None] | ~pool.is_volunteer[None, :]
    in_person_possible = wants_in_person & pool.meets_in_person[None, :]
    phone_possible = block.wants_phone[:, None] & pool.meets_by_phone[None, :]
    in_person = in_person_possible & ~(beyond & phone_possible)
    by_phone = phone_possible & ~in_person
    return in_person, by_phone, ~in_person_possible & ~phone_possible


@dataclass
class PoolScores:
    """Score and hard-constraint verdicts of one citizen against every candidate in a pool."""

    score: np.ndarray
    distance_km: np.ndarray     # NaN = unknown
    violations: dict[Exclusion, np.ndarray]
    priority: np.ndarray        # int: what the citizen's barriers put first (0), before any score
    by_phone: np.ndarray | None = None

    @property
    def eligible(self) -> np.ndarray:
        ok = np.ones(len(self.score), dtype=bool)
        for violated in self.violations.values():
            ok &= ~violated
        return ok


def score_pool(citizen: CitizenProfile, pool: CandidatePool, exclude: frozenset[UUID] = frozenset()) -> PoolScores:
    """One citizen against the pool: the first row of `score_block`, plus candidates proposed before."""
    scores = score_block(CitizenBlock.of([citizen], pool), pool)
    violations = {exclusion: violated[0] for exclusion, violated in scores.violations.items()}
    violations[Exclusion.already_proposed] = (
        np.array([i in exclude for i in pool.ids], dtype=bool) if exclude else np.zeros(len(pool), dtype=bool)
    )
    return PoolScores(score=scores.score[0], distance_km=scores.distance_km[0], violations=violations,
                      priority=_priority(citizen, pool), by_phone=scores.by_phone[0])


def _priority(citizen: CitizenProfile, pool: CandidatePool) -> np.ndarray:
    """Barriers rank before scores: with a money barrier free before subsidised; with a hearing barrier a
    hearing loop before none (money first). 0 = first; all 0 for a citizen with neither barrier."""
    priority = np.zeros(len(pool), dtype=np.int8)
    if MONEY in citizen.barriers:
        priority += 2 * pool.cost_tier
    if HEARING in citizen.barriers:
        priority += ~pool.hearing_loop
    return priority


def top_eligible(scores: PoolScores, limit: int) -> np.ndarray:
    """Row numbers of the best eligible candidates, best first (ties: nearer first)."""
    rows = np.flatnonzero(scores.eligible)
    if rows.size == 0 or limit <= 0:
        return rows[:0]
    if rows.size > limit:  # priority outweighs any score difference (scores are in [0, 1])
        keep = np.argpartition(2.0 * scores.priority[rows] - scores.score[rows], limit - 1)[:limit]
        rows = rows[keep]
    distance = np.nan_to_num(scores.distance_km[rows], nan=np.inf)
    return rows[np.lexsort((distance, -scores.score[rows], scores.priority[rows]))]


@dataclass(frozen=True)
class Assessment:
    """One candidate judged for one citizen."""

    candidate: Candidate
    score: float
    distance_km: float | None
    reasons: list[str] = field(default_factory=list)
    """The reasons rendered in the instance's language."""
    exclusions: dict[Exclusion, str] = field(default_factory=dict)
    reason_codes: list[Reason] = field(default_factory=list)
    """The same reasons as codes with parameters, for any reader's language."""

    @property
    def eligible(self) -> bool:
        return not self.exclusions


def rank(
    citizen: CitizenProfile, candidates: Sequence[Candidate], exclude: frozenset[UUID] = frozenset(), limit: int = 10,
    language: str = "en",
) -> list[Assessment]:
    """The best eligible candidates for the citizen, best first, with reasons."""
    if not candidates:
        return []
    return rank_in_pool(citizen, CandidatePool.of(candidates), candidates, exclude, limit, language)


def rank_in_pool(
    citizen: CitizenProfile, pool: CandidatePool, candidates: Sequence[Candidate],
    exclude: frozenset[UUID] = frozenset(), limit: int = 10, language: str = "en",
) -> list[Assessment]:
    """`rank` against a pool built beforehand (kept in memory when the registry is large)."""
    scores = score_pool(citizen, pool, exclude)
    return [_assessment(citizen, candidates[row], scores, row, language) for row in top_eligible(scores, limit)]


def assess_all(citizen: CitizenProfile, candidates: Sequence[Candidate], exclude: frozenset[UUID] = frozenset(),
               language: str = "en") -> list[Assessment]:
    """Every candidate judged, eligible or not, best first: what a guide sees when asking why."""
    if not candidates:
        return []
    scores = score_pool(citizen, CandidatePool.of(candidates), exclude)
    judged = [(_assessment(citizen, k, scores, row, language), int(scores.priority[row])) for row, k in enumerate(candidates)]
    judged.sort(key=lambda ap: (not ap[0].eligible, ap[1], -ap[0].score,
                                ap[0].distance_km if ap[0].distance_km is not None else np.inf))
    return [a for a, _ in judged]


def assess(citizen: CitizenProfile, candidate: Candidate) -> Assessment:
    return assess_all(citizen, [candidate])[0]


def _assessment(citizen: CitizenProfile, candidate: Candidate, scores: PoolScores, row: int, language: str) -> Assessment:
    distance = scores.distance_km[row]
    distance_km = None if np.isnan(distance) else round(float(distance), 2)
    exclusions = {
        exclusion: _why_excluded(exclusion, citizen, candidate, distance_km)
        for exclusion, violated in scores.violations.items()
        if violated[row]
    }
    return _with_reasons(citizen, candidate, round(float(scores.score[row]), 4), distance_km, exclusions, language,
                         by_phone=bool(scores.by_phone[row]))


def _with_reasons(citizen: CitizenProfile, candidate: Candidate, score: float, distance_km: float | None,
                  exclusions: dict[Exclusion, str], language: str, by_phone: bool = False) -> Assessment:
    codes = reason_codes(citizen, candidate, distance_km, by_phone=by_phone)
    return Assessment(candidate=candidate, score=score, distance_km=distance_km,
                      reasons=[reason.text(language) for reason in codes], exclusions=exclusions, reason_codes=codes)


def _why_excluded(exclusion: Exclusion, citizen: CitizenProfile, candidate: Candidate, distance_km: float | None) -> str:
    match exclusion:
        case Exclusion.not_consented:
            return f"the citizen's consent does not name {candidate.org}"
        case Exclusion.no_common_language:
            return f"no language in common (citizen: {language_list(citizen.languages)}; candidate: {language_list(candidate.languages)})"
        case Exclusion.no_capacity:
            return "no capacity left" if candidate.kind is Kind.volunteer_friend else "no seats left"
        case Exclusion.not_trained:
            return "the volunteer has not completed training"
        case Exclusion.out_of_reach:
            reach = max(reach_km(citizen.max_travel_km, citizen.barriers), candidate.travel_km)
            shrunk = sorted(set(citizen.barriers) & REACH_FACTORS.keys())
            because = f" (barriers: {', '.join(shrunk)})" if shrunk else ""
            return f"{distance_km:.1f} km is beyond the reach of {reach:.1f} km{because}"
        case Exclusion.not_step_free:
            return "the citizen needs step-free access and the activity has none"
        case Exclusion.accompaniment_not_welcome:
            return "the citizen wants company to the first visits and the activity does not welcome it"
        case Exclusion.paid_only:
            return f"the citizen has a money barrier and the activity costs {candidate.cost_dkk:.0f} kr with no subsidised price"
        case Exclusion.already_proposed:
            return "already proposed to this citizen before"
        case Exclusion.no_common_channel:
            if candidate.meets_by_phone:
                return "the volunteer meets by phone or video only and the citizen wishes to meet in person"
            return "the citizen wishes a phone friend and the volunteer meets in person only"
    raise AssertionError(exclusion)


def slots(pairs: Iterable[tuple[str, str]]) -> frozenset[Slot]:
    return frozenset(Slot(day, part) for day, part in pairs)


__all__ = [
    "Assessment", "CandidatePool", "CitizenBlock", "Exclusion", "PoolScores", "Scores", "score_block", "Point", "assess", "assess_all", "rank",
    "reach_km", "score_pool", "slots", "top_eligible",
]


def assessment_in_block(citizen: CitizenProfile, candidate: Candidate, scores: Scores, row: int, column: int,
                        language: str = "en") -> Assessment:
    """The assessment of one (citizen, candidate) cell of a block's scores, with reasons."""
    distance = scores.distance_km[row, column]
    distance_km = None if np.isnan(distance) else round(float(distance), 2)
    exclusions = {
        exclusion: _why_excluded(exclusion, citizen, candidate, distance_km)
        for exclusion, violated in scores.violations.items()
        if violated[row, column]
    }
    return _with_reasons(citizen, candidate, round(float(scores.score[row, column]), 4), distance_km, exclusions,
                         language, by_phone=bool(scores.by_phone[row, column]))
