"""Candidates and citizens as numpy columns, so one rule scores thousands of pairs at once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Sequence
from uuid import UUID

import numpy as np

from matching.domain import taxonomy
from matching.domain.barriers import HEARING, MONEY, cost_tier
from matching.domain.geo import reach_km
from matching.domain.model import GENDERS, SLOT_COUNT, Candidate, CitizenProfile, Kind, Slot


@dataclass
class CandidatePool:
    """Candidates as columns, for scoring citizens against all of them at once."""

    ids: list[UUID]
    org_index: np.ndarray       # int (n,): position of the candidate's org in `orgs`
    orgs: list[str]
    interests: np.ndarray       # bool (n, len(vocabulary))
    languages: np.ndarray       # bool (n, len(language vocabulary)); all False = not stated
    latitude: np.ndarray        # float, NaN = unknown
    longitude: np.ndarray
    travel_km: np.ndarray
    capacity_left: np.ndarray   # float, inf = no limit
    trained: np.ndarray
    step_free: np.ndarray
    accompaniment_welcome: np.ndarray
    cost_tier: np.ndarray       # int8: barriers.CostTier (free, subsidised, paid only)
    hearing_loop: np.ndarray    # bool: an activity with a hearing loop, or a volunteer (one to one, face to face)
    interpreter: np.ndarray     # bool: an interpreter can be arranged (no common language needed)
    slots: np.ndarray           # bool (n, SLOT_COUNT)
    vocabulary: list[str]
    language_vocabulary: list[str]
    has_traits: np.ndarray      # bool: a volunteer, to whom preferences apply
    gender: np.ndarray          # int: 1 + index in GENDERS, 0 unknown
    age: np.ndarray             # int: 1 + index in age_vocabulary, 0 unknown
    smokes: np.ndarray          # int8: 1 yes, 0 no, -1 unknown
    has_pets: np.ndarray        # int8: 1 yes, 0 no, -1 unknown
    age_vocabulary: list[str]
    is_volunteer: np.ndarray = None     # bool: a volunteer friend (the channel rule applies to them only)
    meets_in_person: np.ndarray = None  # bool: a volunteer ready to meet in person, or an activity
    meets_by_phone: np.ndarray = None   # bool: a volunteer ready to be a phone friend (distance does not apply)

    def __len__(self) -> int:
        return len(self.ids)

    # Derived columns, computed once per pool: a pool held in memory is scored many times.
    @functools.cached_property
    def interests_f32(self) -> np.ndarray:
        return self.interests.astype(np.float32)

    @functools.cached_property
    def languages_f32(self) -> np.ndarray:
        return self.languages.astype(np.float32)

    @functools.cached_property
    def slots_f32(self) -> np.ndarray:
        return self.slots.astype(np.float32)

    @functools.cached_property
    def slot_count(self) -> np.ndarray:
        return self.slots.sum(axis=1)

    @functools.cached_property
    def states_languages(self) -> np.ndarray:
        return self.languages.any(axis=1)

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> "CandidatePool":
        vocabulary = list(taxonomy.CODES) + sorted({c for k in candidates for c in k.interests} - set(taxonomy.CODES))
        languages = sorted({lang for k in candidates for lang in k.languages})
        orgs = sorted({k.org for k in candidates})
        traits = [k.traits for k in candidates]
        ages = sorted({t.age_band for t in traits if t is not None and t.age_band})
        return cls(
            ids=[k.candidate_id for k in candidates],
            org_index=np.array([orgs.index(k.org) for k in candidates], dtype=int),
            orgs=orgs,
            interests=_matrix([k.interests for k in candidates], vocabulary),
            languages=_matrix([k.languages for k in candidates], languages),
            latitude=np.array([k.location.latitude if k.location else np.nan for k in candidates], dtype=float),
            longitude=np.array([k.location.longitude if k.location else np.nan for k in candidates], dtype=float),
            travel_km=np.array([k.travel_km for k in candidates], dtype=float),
            capacity_left=np.array([np.inf if k.capacity_left is None else k.capacity_left for k in candidates], dtype=float),
            trained=np.array([k.trained for k in candidates], dtype=bool),
            step_free=np.array([k.step_free for k in candidates], dtype=bool),
            accompaniment_welcome=np.array([k.accompaniment_welcome for k in candidates], dtype=bool),
            cost_tier=np.array([cost_tier(k) for k in candidates], dtype=np.int8),
            hearing_loop=np.array([k.hearing_loop or k.traits is not None for k in candidates], dtype=bool),
            interpreter=np.array([k.interpreter_available for k in candidates], dtype=bool),
            slots=_slot_matrix([k.availability for k in candidates]),
            vocabulary=vocabulary,
            language_vocabulary=languages,
            has_traits=np.array([t is not None for t in traits], dtype=bool),
            gender=np.array([_code(t.gender if t else None, GENDERS) for t in traits], dtype=int),
            age=np.array([_code(t.age_band if t else None, ages) for t in traits], dtype=int),
            smokes=np.array([_flag(t.smokes if t else None) for t in traits], dtype=np.int8),
            has_pets=np.array([_flag(t.has_pets if t else None) for t in traits], dtype=np.int8),
            age_vocabulary=ages,
            is_volunteer=np.array([k.kind is Kind.volunteer_friend for k in candidates], dtype=bool),
            meets_in_person=np.array([k.meets_in_person for k in candidates], dtype=bool),
            meets_by_phone=np.array([k.meets_by_phone for k in candidates], dtype=bool),
        )


def _code(value: str | None, vocabulary: Sequence[str]) -> int:
    return vocabulary.index(value) + 1 if value in vocabulary else 0


def _flag(value: bool | None) -> int:
    return -1 if value is None else int(value)


@dataclass
class CitizenBlock:
    """Citizens as rows, in the vocabularies of one pool."""

    ids: list[UUID]
    consent: np.ndarray         # bool (m, len(pool.orgs))
    interests: np.ndarray       # bool (m, len(pool.vocabulary))
    interest_count: np.ndarray  # int (m,): all the citizen's interests, also those no candidate has
    languages: np.ndarray       # bool (m, len(pool.language_vocabulary))
    latitude: np.ndarray
    longitude: np.ndarray
    reach_km: np.ndarray
    needs_step_free: np.ndarray
    wants_accompaniment: np.ndarray
    money: np.ndarray           # bool: a money barrier (paid-only candidates excluded, free ones first)
    hearing: np.ndarray         # bool: a hearing barrier (hearing loops first)
    slots: np.ndarray           # bool (m, SLOT_COUNT)
    wanted_gender: np.ndarray   # int, as pool.gender; 0 = no preference
    non_smoker: np.ndarray
    no_pets: np.ndarray
    similar_age: np.ndarray
    age: np.ndarray             # int, as pool.age
    preferences_stated: np.ndarray
    wants_in_person: np.ndarray = None  # bool: a friend in person (or no friend wish named: judged in person)
    wants_phone: np.ndarray = None      # bool: a phone friend (ringvän) is wished

    @classmethod
    def of(cls, citizens: Sequence[CitizenProfile], pool: CandidatePool) -> "CitizenBlock":
        return cls(
            ids=[c.citizen_id for c in citizens],
            consent=_matrix([c.consented_orgs & set(pool.orgs) for c in citizens], pool.orgs),
            interests=_matrix([c.interests & set(pool.vocabulary) for c in citizens], pool.vocabulary),
            interest_count=np.array([len(c.interests) for c in citizens], dtype=int),
            languages=_matrix([c.languages & set(pool.language_vocabulary) for c in citizens], pool.language_vocabulary),
            latitude=np.array([c.location.latitude if c.location else np.nan for c in citizens], dtype=float),
            longitude=np.array([c.location.longitude if c.location else np.nan for c in citizens], dtype=float),
            reach_km=np.array([reach_km(c.max_travel_km, c.barriers) for c in citizens], dtype=float),
            needs_step_free=np.array([c.needs_step_free for c in citizens], dtype=bool),
            wants_accompaniment=np.array([c.wants_accompaniment for c in citizens], dtype=bool),
            money=np.array([MONEY in c.barriers for c in citizens], dtype=bool),
            hearing=np.array([HEARING in c.barriers for c in citizens], dtype=bool),
            slots=_slot_matrix([c.availability for c in citizens]),
            wanted_gender=np.array([_code(c.preferences.gender, GENDERS) for c in citizens], dtype=int),
            non_smoker=np.array([c.preferences.non_smoker for c in citizens], dtype=bool),
            no_pets=np.array([c.preferences.no_pets for c in citizens], dtype=bool),
            similar_age=np.array([c.preferences.similar_age for c in citizens], dtype=bool),
            age=np.array([_code(c.age_band, pool.age_vocabulary) for c in citizens], dtype=int),
            preferences_stated=np.array([c.preferences.stated for c in citizens], dtype=int),
            wants_in_person=np.array([c.wants_friend_in_person for c in citizens], dtype=bool),
            wants_phone=np.array([c.wants_phone_friend for c in citizens], dtype=bool),
        )


def _matrix(sets: Sequence[Iterable[str]], vocabulary: list[str]) -> np.ndarray:
    column = {word: i for i, word in enumerate(vocabulary)}
    matrix = np.zeros((len(sets), len(vocabulary)), dtype=bool)
    for row, words in enumerate(sets):
        for word in words:
            matrix[row, column[word]] = True
    return matrix


def _slot_matrix(timetables: Sequence[frozenset[Slot]]) -> np.ndarray:
    matrix = np.zeros((len(timetables), SLOT_COUNT), dtype=bool)
    for row, timetable in enumerate(timetables):
        for slot in timetable:
            matrix[row, slot.index] = True
    return matrix
