"""Triage: the guide's decision on a referral, published as ReferralTriaged (and ReferralEscalated)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from brobygger_contracts.events.referral import EscalationReason, ReferralEscalated, ReferralTriaged, TriageDecision
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import repository as repo
from brobygger_runtime.auth import Caller
from referral.domain.access import is_staff_of
from referral.domain.errors import Erased, Forbidden, NotFound
from referral.domain.triage import MILESTONE_OF_DECISION, ReferralState, triage
from referral.service_layer.referrals import Partnership


@dataclass(frozen=True)
class TriageCommand:
    decision: TriageDecision
    triaged_by: str
    note: str | None = None
    """The guide's reason in their own words; stored here only."""
    escalation_reason: EscalationReason | None = None
    receiving_unit: str | None = None


async def triage_referral(
    uow: UnitOfWork, referral_id: uuid.UUID, command: TriageCommand, caller: Caller, partnership: Partnership
) -> ReferralState:
    if not is_staff_of(caller, partnership.owning_org):  # checked before the lookup: tells nothing
        raise Forbidden(f"only guides and coordinators of {partnership.owning_org} triage referrals")
    row = await repo.referral(uow.session, str(referral_id), for_update=True)
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    citizen = await repo.citizen(uow.session, row.citizen_id)
    if citizen.erased_at is not None:
        raise Erased(f"citizen {row.citizen_id} was erased on request")
    state = triage(ReferralState(row.state), command.decision)
    now = datetime.now(UTC)
    await repo.update_referral(uow.session, row.referral_id, dict(
        state=state.value, triage_decision=command.decision.value, triaged_by=command.triaged_by,
        triage_note=command.note, escalation_reason=command.escalation_reason and command.escalation_reason.value,
        receiving_unit=command.receiving_unit, triaged_at=now,
    ))
    citizen_id = uuid.UUID(row.citizen_id)
    await uow.publish(ReferralTriaged(
        referral_id=referral_id, citizen_id=citizen_id, decision=command.decision,
        triaged_by=command.triaged_by, triaged_at=now,
    ))
    if command.decision is TriageDecision.professional:
        await uow.publish(ReferralEscalated(
            referral_id=referral_id, citizen_id=citizen_id, reason=command.escalation_reason,
            receiving_unit=command.receiving_unit, escalated_at=now,
        ))
    if command.decision in MILESTONE_OF_DECISION:
        await repo.reach_milestone(uow.session, row.citizen_id, MILESTONE_OF_DECISION[command.decision], now)
    return state
