"""The batch assignment of volunteer friends to every citizen still waiting for one."""

from __future__ import annotations

import uuid
from uuid import UUID

import numpy as np

from brobygger_contracts.events.matching import MatchProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.domain.assignment import assign_optimal
from matching.domain.model import Candidate, CitizenProfile, Kind
from matching.domain.scoring import CandidatePool, CitizenBlock, Scores, assessment_in_block, score_block
from matching.service_layer.proposals import options_shown, reasons_language, record_proposal
from matching.volunteering.settings import rules_of


async def assign_waiting_citizens(uow: UnitOfWork) -> list[MatchProposed]:
    session = uow.session
    await repo.serialise_proposals(session)
    busy = await repo.open_proposals(session, Kind.volunteer_friend)
    waiting = [p for p in await repo.profiles(session, uow.runtime.settings.org_id)
               if p.wants_friend and str(p.citizen_id) not in busy]
    volunteers = [v for v in await repo.volunteer_candidates(session, rules_of(uow.runtime.settings))
                  if v.capacity_left]
    if not waiting or not volunteers:
        return []
    earlier = await repo.proposed_candidates(session, Kind.volunteer_friend)
    with metrics_of(uow.runtime).batch_seconds.time():
        scores, pairs = _plan(waiting, volunteers, earlier)
    made = []
    others = _alternatives(scores, pairs, volunteers, options_shown(uow, Kind.volunteer_friend) - 1)
    for i, j in pairs:
        rank_number = len(earlier.get(waiting[i].citizen_id, ())) + 1
        choice_id = uuid.uuid4() if others.get(i) else None
        for number, column in enumerate((j, *others.get(i, ())), start=rank_number):
            chosen = assessment_in_block(waiting[i], volunteers[column], scores, i, column, reasons_language(uow))
            made.append(await record_proposal(uow, waiting[i], chosen, rank_number=number, choice_id=choice_id))
    return made


def _alternatives(scores: Scores, pairs: list[tuple[int, int]], volunteers: list[Candidate],
                  extra: int) -> dict[int, list[int]]:
    """With VOLUNTEER_OPTIONS_SHOWN above 1: each assigned citizen's next best volunteers from the slots the
    optimal assignment left free (each shown volunteer holds a slot), best first; none by default."""
    if extra <= 0:
        return {}
    left = np.array([v.capacity_left for v in volunteers], dtype=int)
    for _, j in pairs:
        left[j] -= 1
    found: dict[int, list[int]] = {}
    for i, j in pairs:
        columns = np.flatnonzero(scores.eligible[i] & (left > 0))
        columns = columns[columns != j]
        best = [int(c) for c in columns[np.argsort(-scores.score[i, columns], kind="stable")][:extra]]
        left[best] -= 1
        found[i] = best
    return found


def _plan(waiting: list[CitizenProfile], volunteers: list[Candidate],
          earlier: dict[UUID, list[UUID]]) -> tuple[Scores, list[tuple[int, int]]]:
    pool = CandidatePool.of(volunteers)
    scores = score_block(CitizenBlock.of(waiting, pool), pool)
    eligible = scores.eligible
    column = {v.candidate_id: j for j, v in enumerate(volunteers)}
    for i, citizen in enumerate(waiting):
        for candidate_id in earlier.get(citizen.citizen_id, ()):  # never the same volunteer twice
            if candidate_id in column:
                eligible[i, column[candidate_id]] = False
    capacity = np.array([v.capacity_left for v in volunteers], dtype=int)
    return scores, assign_optimal(scores.score, eligible, capacity)
