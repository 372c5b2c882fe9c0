"""The citizen chooses among the options shown together: accepting one reserves its candidate and
withdraws the other options of that kind; declining frees the slot, and once no option of the kind is
left the next ones are proposed.

A candidate who stops lets their citizens go the same way, whether they had answered or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Iterable
from uuid import UUID

import sqlalchemy as sa

from brobygger_contracts.events.matching import DeclineReason, MatchAccepted, MatchDeclined, MatchProposed, ProposalKind
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import proposals
from matching.domain.model import Kind
from matching.friendships.asking import VolunteerAsked, ask_volunteer
from matching.friendships.life import close_with_match
from matching.service_layer.errors import NotFound, Refused
from matching.service_layer.proposals import propose_best


LET_GO = {"proposed": "withdrawn", "awaiting_volunteer": "withdrawn", "accepted": "ended"}
"""What becomes of a proposal whose candidate stopped: withdrawn before the citizen answered, ended after they accepted."""


async def _held(uow: UnitOfWork, proposal_id: UUID, statuses: Iterable[str] = ("proposed",)):  # noqa: ANN202
    row = await repo.proposal(uow.session, proposal_id, lock=True)
    if row is None:
        raise NotFound(f"no proposal {proposal_id}")
    if row.status not in statuses:
        raise Refused(f"proposal {proposal_id} is already {row.status}")
    return row


async def _decide(uow: UnitOfWork, proposal_id: UUID, now: datetime, **values: object) -> None:
    await uow.session.execute(
        proposals.update().where(proposals.c.proposal_id == str(proposal_id)).values(decided_at=now, **values)
    )


async def accept(uow: UnitOfWork, proposal_id: UUID, *,
                 volunteer_said_yes: bool = False) -> MatchAccepted | VolunteerAsked:
    """The citizen (with the guide) picks this option. For a volunteer friend the volunteer is asked first
    (friendships.asking) and the citizen's other options of the kind are let go (they chose); the volunteer's
    yes (`volunteer_said_yes`) then makes the match."""
    row = await _held(uow, proposal_id, ("awaiting_volunteer",) if volunteer_said_yes else ("proposed",))
    if not volunteer_said_yes and row.kind == Kind.volunteer_friend.value:
        await withdraw_other_options(uow, row, datetime.now(UTC))
        return await ask_volunteer(uow, row)
    return await accepted(uow, row)


async def accepted(uow: UnitOfWork, row: sa.Row) -> MatchAccepted:
    """The acceptance takes effect: `MatchAccepted`, and the other options of the kind are withdrawn."""
    proposal_id = UUID(row.proposal_id)
    now = datetime.now(UTC)
    await _decide(uow, proposal_id, now, status="accepted")
    metrics_of(uow.runtime).decisions.labels(row.kind, "accepted").inc()
    event = MatchAccepted(proposal_id=proposal_id, citizen_id=UUID(row.citizen_id), kind=ProposalKind(row.kind),
                          candidate_id=UUID(row.candidate_id), accepted_at=now)
    await uow.publish(event)
    await withdraw_other_options(uow, row, now)
    return event


async def withdraw_other_options(uow: UnitOfWork, chosen: sa.Row, now: datetime) -> list[MatchDeclined]:
    """The options of the kind still open beside the chosen one are withdrawn (their slots freed) with
    `MatchDeclined` (`chose_another`): for journey a pending proposal declined, which changes no state."""
    options = await repo.open_options(uow.session, UUID(chosen.citizen_id), Kind(chosen.kind))
    return [await _withdrawn(uow, other, now) for other in options if other.proposal_id != chosen.proposal_id]


async def _withdrawn(uow: UnitOfWork, row: sa.Row, now: datetime) -> MatchDeclined:
    """An open option the citizen did not pick: withdrawn, its slot freed, the bus told (`chose_another`)."""
    await _decide(uow, UUID(row.proposal_id), now, status="withdrawn", decline_reason=DeclineReason.chose_another.value)
    metrics_of(uow.runtime).decisions.labels(row.kind, "withdrawn").inc()
    declined = MatchDeclined(proposal_id=UUID(row.proposal_id), citizen_id=UUID(row.citizen_id), kind=ProposalKind(row.kind),
                             candidate_id=UUID(row.candidate_id), reason=DeclineReason.chose_another, declined_at=now)
    await uow.publish(declined)
    return declined


async def accepted_elsewhere(uow: UnitOfWork, citizen_id: UUID, kind: Kind, candidate_id: UUID) -> list[MatchDeclined]:
    """A partner's instance proposed the same activity (the catalogue is shared) and the citizen accepted it there:
    this instance's open proposal of it is withdrawn (`chose_another`), so its seat is not held twice."""
    now = datetime.now(UTC)
    options = await repo.open_options(uow.session, citizen_id, kind)
    return [await _withdrawn(uow, row, now) for row in options if row.candidate_id == str(candidate_id)]


async def decline(uow: UnitOfWork, proposal_id: UUID, reason: DeclineReason) -> tuple[MatchDeclined, MatchProposed | None]:
    """Decline one option; when no option of the kind is left open, propose the next best candidates of the
    kind (never one proposed before). The first of them is returned."""
    return await _let_go(uow, await _held(uow, proposal_id), reason, status="declined")


async def volunteer_declined(uow: UnitOfWork, proposal_id: UUID,
                             reason: DeclineReason) -> tuple[MatchDeclined, MatchProposed | None]:
    """The volunteer said no, or did not answer in time: as a citizen's decline (friendships.answers)."""
    return await _let_go(uow, await _held(uow, proposal_id, ("awaiting_volunteer",)), reason, status="declined")


async def candidate_unavailable(uow: UnitOfWork, proposal_id: UUID) -> tuple[MatchDeclined, MatchProposed | None]:
    """The candidate stopped: a pending proposal is withdrawn, an accepted match ends.

    Either way `MatchDeclined` (`candidate_unavailable`) tells the bus (after an acceptance the
    journey falls through to matching) and the citizen is proposed the next best candidate, as on a decline.
    """
    row = await _held(uow, proposal_id, LET_GO)
    return await _let_go(uow, row, DeclineReason.candidate_unavailable, status=LET_GO[row.status])


async def _let_go(uow: UnitOfWork, row: sa.Row, reason: DeclineReason,
                  status: str) -> tuple[MatchDeclined, MatchProposed | None]:
    proposal_id = UUID(row.proposal_id)
    now = datetime.now(UTC)
    await _decide(uow, proposal_id, now, status=status, decline_reason=reason.value)
    if status == "ended":
        await close_with_match(uow.session, proposal_id, now)  # a friendship ends with its match
    metrics_of(uow.runtime).decisions.labels(row.kind, status).inc()
    declined = MatchDeclined(proposal_id=proposal_id, citizen_id=UUID(row.citizen_id), kind=ProposalKind(row.kind),
                             candidate_id=UUID(row.candidate_id), reason=reason, declined_at=now)
    await uow.publish(declined)
    citizen = await repo.citizen_row(uow.session, UUID(row.citizen_id))
    profile = repo.profile_of(citizen) if citizen is not None else None
    if profile is None:
        return declined, None
    following = await propose_best(uow, profile, [Kind(row.kind)])
    return declined, (following[0] if following else None)
