"""The batch assignment of volunteer friends to every citizen still waiting for one."""

from __future__ import annotations

from uuid import UUID

import numpy as np

from brobygger_contracts.events.matching import MatchProposed
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.domain.assignment import assign_optimal
from matching.domain.model import Kind, Wish
from matching.domain.scoring import CandidatePool, CitizenBlock, assessment_in_block, score_block
from matching.service_layer.proposals import record_proposal


async def assign_waiting_citizens(uow: UnitOfWork) -> list[MatchProposed]:
    session = uow.session
    await repo.serialise_proposals(session)
    busy = await repo.open_proposals(session, Kind.volunteer_friend)
    waiting = [p for p in await repo.profiles(session, uow.runtime.settings.org_id)
               if Wish.friend in p.wishes and str(p.citizen_id) not in busy]
    volunteers = [v for v in await repo.volunteer_candidates(session) if v.capacity_left]
    if not waiting or not volunteers:
        return []
    pool = CandidatePool.of(volunteers)
    scores = score_block(CitizenBlock.of(waiting, pool), pool)
    eligible = scores.eligible
    column = {v.candidate_id: j for j, v in enumerate(volunteers)}
    earlier: dict[int, int] = {}
    for i, citizen in enumerate(waiting):
        of_kind = [p for p in await repo.proposals_of(session, citizen.citizen_id) if p.kind == Kind.volunteer_friend.value]
        earlier[i] = len(of_kind)
        for p in of_kind:  # never the same volunteer twice
            if UUID(p.candidate_id) in column:
                eligible[i, column[UUID(p.candidate_id)]] = False
    capacity = np.array([v.capacity_left for v in volunteers], dtype=int)
    made = []
    for i, j in assign_optimal(scores.score, eligible, capacity):
        chosen = assessment_in_block(waiting[i], volunteers[j], scores, i, j)
        made.append(await record_proposal(uow, waiting[i], chosen, rank_number=earlier[i] + 1))
    return made
