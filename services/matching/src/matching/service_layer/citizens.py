"""The citizen projection: consent and profile from referral and journey events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import UUID

from brobygger_contracts.events.friendships import FriendshipSide
from brobygger_contracts.events.journey import FollowUpOutcome
from brobygger_runtime import erasure
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.domain.model import CitizenProfile, Kind, Preferences
from matching.friendships.life import close_with_match
from matching.service_layer.assignment import assign_waiting_citizens
from matching.service_layer.errors import NotFound
from matching.service_layer.groups import propose_groups
from matching.service_layer.proposals import offer_freed_seats, propose_best, wished_kinds


def _org(uow: UnitOfWork) -> str:
    return uow.runtime.settings.org_id


async def record_referral(uow: UnitOfWork, citizen_id: UUID, consented_orgs: list[str], postal_code: str,
                          age_band: str, language: str) -> None:
    await record_consent(uow, citizen_id, consented_orgs, postal_code=postal_code, age_band=age_band, language=language)


async def record_consent(uow: UnitOfWork, citizen_id: UUID, consented_orgs: list[str], **facts: str) -> None:
    """Keep the citizen while their consent names this organisation; forget them the moment it does not."""
    if _org(uow) not in consented_orgs:
        await repo.forget_citizen(uow.session, citizen_id, datetime.now(UTC))
        return
    await repo.save_citizen(uow.session, citizen_id, datetime.now(UTC), consented_orgs=sorted(set(consented_orgs)), **facts)
    # A clarification may have arrived before the consent did: act on it now.
    await _act_on(uow, citizen_id)


async def erase_citizen(uow: UnitOfWork, citizen_id: UUID) -> None:
    """CitizenErased: every row about the citizen goes, and the sealed boxes of matching's
    outbox rows about them (proposals and their reasons) are stripped."""
    await repo.erase_citizen(uow.session, citizen_id)
    await erasure.forget_copies(uow, citizen_id)


async def stop_matching(uow: UnitOfWork, citizen_id: UUID) -> None:
    """Escalated to professionals, or the journey ended: nothing more is proposed."""
    await repo.stop_waiting(uow.session, citizen_id, datetime.now(UTC))


async def journey_ended(uow: UnitOfWork, citizen_id: UUID, ended_at: datetime) -> None:
    """Nothing more is proposed and the accepted matches end (their seats and slots are free for others);
    what is kept about the citizen goes when retention's time is up."""
    await stop_matching(uow, citizen_id)
    await end_matches(uow, citizen_id)
    if await repo.citizen_row(uow.session, citizen_id) is not None:
        await repo.save_citizen(uow.session, citizen_id, datetime.now(UTC), journey_ended_at=ended_at)


async def end_matches(uow: UnitOfWork, citizen_id: UUID, proposal_id: UUID | None = None) -> list:
    """The citizen's accepted matches here end (all, or the one `proposal_id`), with any friendship they began:
    the seats and slots go to those waiting. Journey decided it and told the bus, so no `MatchDeclined`."""
    now = datetime.now(UTC)
    ended = await repo.end_accepted(uow.session, citizen_id, now, proposal_id)
    for row in ended:
        metrics_of(uow.runtime).decisions.labels(row.kind, "ended").inc()
        await close_with_match(uow.session, UUID(row.proposal_id), now, side=FriendshipSide.citizen)
    freed = {Kind(row.kind) for row in ended}
    if Kind.activity in freed:
        await offer_freed_seats(uow)  # the seat goes to someone waiting
    if Kind.volunteer_friend in freed:
        await assign_waiting_citizens(uow)
    return ended


async def follow_up_recorded(uow: UnitOfWork, citizen_id: UUID, outcome: FollowUpOutcome,
                             proposal_id: UUID | None) -> None:
    """A guide's follow-up: `stopped` ends the named match here; `needs_new_proposal` ends the named one (or, naming
    none, every accepted match here), so the `NeedsClarified` journey re-sends right after finds the citizen free to
    be proposed again. Still going or paused changes nothing."""
    if outcome is FollowUpOutcome.needs_new_proposal or (outcome is FollowUpOutcome.stopped and proposal_id is not None):
        await end_matches(uow, citizen_id, proposal_id)


async def forget_ended_journeys(uow: UnitOfWork, ended_before: datetime) -> int:
    """Retention: citizens whose journey ended before `ended_before` leave matching (as on erasure)."""
    gone = await repo.citizens_whose_journey_ended(uow.session, ended_before)
    for citizen_id in gone:
        await repo.erase_citizen(uow.session, citizen_id)
    return len(gone)


async def record_needs(uow: UnitOfWork, needs: CitizenProfile) -> None:
    """Store the clarification and propose, once the consent is known to name this organisation.

    `needs.consented_orgs` is ignored: consent comes only from the referral service's events.
    """
    row = await repo.citizen_row(uow.session, needs.citizen_id)
    if row is not None and row.consented_orgs is not None and _org(uow) not in row.consented_orgs:
        return  # not ours to know
    await repo.save_citizen(uow.session, needs.citizen_id, datetime.now(UTC), needs=repo.needs_json(needs),
                            needs_clarified_at=datetime.now(UTC))
    await _act_on(uow, needs.citizen_id)


async def record_guide(uow: UnitOfWork, citizen_id: UUID, guide_id: str, guide_org: str) -> None:
    """Journey assigned the citizen a guide: that guide's caseload now holds them (and no other guide's)."""
    row = await repo.citizen_row(uow.session, citizen_id)
    if row is not None and row.consented_orgs is not None and _org(uow) not in row.consented_orgs:
        return  # not ours to know
    await repo.save_citizen(uow.session, citizen_id, datetime.now(UTC), guide_id=guide_id, guide_org=guide_org)


async def set_preferences(uow: UnitOfWork, citizen_id: UUID, preferences: Preferences) -> None:
    """The guide records what the citizen would like in a volunteer friend (soft: it ranks, never excludes)."""
    row = await repo.citizen_row(uow.session, citizen_id)
    if row is None or row.consented_orgs is None or _org(uow) not in row.consented_orgs:
        raise NotFound(f"no citizen {citizen_id} whose consent names {_org(uow)}")
    await repo.save_citizen(uow.session, citizen_id, datetime.now(UTC), preferences=dataclasses.asdict(preferences))


async def _act_on(uow: UnitOfWork, citizen_id: UUID) -> None:
    row = await repo.citizen_row(uow.session, citizen_id)
    profile = repo.profile_of(row) if row is not None else None
    if profile is None or _org(uow) not in profile.consented_orgs:
        return
    kinds = wished_kinds(profile)
    if Kind.volunteer_friend in kinds:
        # Volunteer friends go through the batch assignment: the newcomer and everyone
        # still waiting share the free slots so that the total match quality is highest.
        await assign_waiting_citizens(uow)
    await propose_best(uow, profile, [k for k in kinds if k is not Kind.volunteer_friend])
    await propose_groups(uow, profile)
