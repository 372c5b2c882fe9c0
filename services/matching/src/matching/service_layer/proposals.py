"""Proposing the best volunteer friend or activity to a citizen, with reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.matching import MatchProposed, MatchReason, ProposalKind
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import proposals
from matching.domain.barriers import price_for, transport_need
from matching.domain.model import CitizenProfile, Kind, Wish
from matching.domain.scoring import Assessment, rank
from matching.volunteering.settings import rules_of

KIND_OF_WISH = {Wish.friend: Kind.volunteer_friend, Wish.activity: Kind.activity,
                Wish.phone_friend: Kind.volunteer_friend}  # a phone friend is a volunteer friend met by phone


def reasons_language(uow: UnitOfWork) -> str:
    return getattr(uow.runtime.settings, "reasons_language", "en")


def wished_kinds(profile: CitizenProfile) -> list[Kind]:
    return list(dict.fromkeys(kind for wish, kind in KIND_OF_WISH.items() if wish in profile.wishes))


async def propose_best(uow: UnitOfWork, profile: CitizenProfile, kinds: list[Kind]) -> list[MatchProposed]:
    """For each kind the citizen has no open proposal of, propose the best candidate not proposed before."""
    session = uow.session
    await repo.serialise_proposals(session)
    earlier = await repo.proposals_of(session, profile.citizen_id)
    made = []
    for kind in kinds:
        of_kind = [p for p in earlier if p.kind == kind.value]
        if any(p.status in repo.HOLDING_CAPACITY for p in of_kind):
            continue
        best = rank(profile, await repo.candidates(session, kind, rules_of(uow.runtime.settings)), exclude=frozenset(uuid.UUID(p.candidate_id) for p in of_kind),
                    limit=1, language=reasons_language(uow))
        if best:
            made.append(await record_proposal(uow, profile, best[0], rank_number=len(of_kind) + 1))
    return made


def shown_distance(distance_km: float | None) -> float | None:
    """What a proposal says of the distance: whole kilometres between the two areas."""
    return None if distance_km is None else float(round(distance_km))


async def record_proposal(uow: UnitOfWork, profile: CitizenProfile, chosen: Assessment, rank_number: int) -> MatchProposed:
    now = datetime.now(UTC)
    candidate = chosen.candidate
    need = transport_need(profile, candidate, chosen.distance_km)
    price = price_for(profile, candidate) if candidate.kind is Kind.activity else None
    cost_dkk = None if price is None else round(price)
    codes = [reason.as_json() for reason in chosen.reason_codes]
    event = MatchProposed(
        proposal_id=uuid.uuid4(),
        citizen_id=profile.citizen_id,
        kind=ProposalKind(candidate.kind.value),
        candidate_id=candidate.candidate_id,
        candidate_name=candidate.name if candidate.kind is Kind.activity else None,
        proposing_org=uow.runtime.settings.org_id,
        score=chosen.score,
        reasons=chosen.reasons,
        reason_codes=[MatchReason(**code) for code in codes],
        transport_need=need,
        cost_dkk=cost_dkk,
        distance_km=shown_distance(chosen.distance_km),
        rank=rank_number,
        proposed_at=now,
    )
    await uow.session.execute(proposals.insert().values(
        proposal_id=str(event.proposal_id), citizen_id=str(profile.citizen_id), kind=candidate.kind.value,
        candidate_id=str(candidate.candidate_id), score=chosen.score, rank=rank_number, reasons=codes,
        distance_km=shown_distance(chosen.distance_km), transport_need=need.value if need else None, cost_dkk=cost_dkk,
        status="proposed", proposed_at=now,
    ))
    await uow.publish(event)
    metrics_of(uow.runtime).proposals.labels(candidate.kind.value).inc()
    return event
