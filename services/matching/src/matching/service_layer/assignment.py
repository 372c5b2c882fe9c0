"""The batch assignment of volunteer friends to every citizen still waiting for one."""

from __future__ import annotations

from uuid import UUID

import numpy as np

from brobygger_contracts.events.matching import MatchProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.domain.assignment import assign_optimal
from matching.domain.model import Candidate, CitizenProfile, Kind
from matching.domain.scoring import CandidatePool, CitizenBlock, Scores, assessment_in_block, score_block
from matching.service_layer.proposals import reasons_language, record_proposal
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
    for i, j in pairs:
        chosen = assessment_in_block(waiting[i], volunteers[j], scores, i, j, reasons_language(uow))
        rank_number = len(earlier.get(waiting[i].citizen_id, ())) + 1
        made.append(await record_proposal(uow, waiting[i], chosen, rank_number=rank_number))
    return made


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
