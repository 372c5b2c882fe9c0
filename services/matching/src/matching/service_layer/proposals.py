"""Proposing volunteer friends or activities to a citizen, up to three of a kind at once, with reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts.events.matching import MatchProposed, MatchReason, ProposalKind
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import repository as repo
from matching.adapters.metrics import metrics_of
from matching.adapters.tables import activities, citizens, proposals
from matching.domain.barriers import price_for, transport_need
from matching.domain.groups import group_home, wants_community
from matching.domain.model import Candidate, CitizenProfile, Kind, Wish
from matching.domain.scoring import Assessment, rank
from matching.domain.waiting import RATE_WINDOW_DAYS, Queue, estimate_wait_days
from matching.service_layer.groups import matching_orgs
from matching.volunteering.settings import rules_of

KIND_OF_WISH = {Wish.friend: Kind.volunteer_friend, Wish.activity: Kind.activity,
                Wish.phone_friend: Kind.volunteer_friend}  # a phone friend is a volunteer friend met by phone

OPTIONS_SHOWN = {Kind.activity: 3, Kind.volunteer_friend: 1}
"""How many candidates of one kind the citizen is shown at once (issue 15 case 3: a real choice). A volunteer
friend shown holds that person's slot and asks them, so volunteers come one at a time unless configured."""


def reasons_language(uow: UnitOfWork) -> str:
    return getattr(uow.runtime.settings, "reasons_language", "en")


def options_shown(uow: UnitOfWork, kind: Kind) -> int:
    setting = "activity_options_shown" if kind is Kind.activity else "volunteer_options_shown"
    return getattr(uow.runtime.settings, setting, OPTIONS_SHOWN[kind])


def wished_kinds(profile: CitizenProfile) -> list[Kind]:
    return list(dict.fromkeys(kind for wish, kind in KIND_OF_WISH.items() if wish in profile.wishes))


def proposes_activities_to(uow: UnitOfWork, profile: CitizenProfile) -> bool:
    """Activities come from one instance per citizen, their home (`domain.groups.group_home`), as new groups do:
    the catalogue is shared, so two instances whose organisations the consent names would otherwise both propose
    the same walk to the same person, and each guide would see a different list."""
    org = uow.runtime.settings.org_id
    return group_home(profile.consented_orgs, matching_orgs(uow), org) == org


async def propose_best(uow: UnitOfWork, profile: CitizenProfile, kinds: list[Kind]) -> list[MatchProposed]:
    """For each kind the citizen has no open proposal of, propose the best candidates not proposed before:
    up to `OPTIONS_SHOWN` of the kind at once, ranked, sharing one `choice_id` (the citizen picks any of them)."""
    if Kind.activity in kinds and not proposes_activities_to(uow, profile):
        kinds = [kind for kind in kinds if kind is not Kind.activity]
    session = uow.session
    await repo.serialise_proposals(session)
    earlier = await repo.proposals_of(session, profile.citizen_id)
    made = []
    for kind in kinds:
        of_kind = [p for p in earlier if p.kind == kind.value]
        if any(p.status in repo.HOLDING_CAPACITY for p in of_kind):
            continue
        options = rank(profile, await repo.candidates(session, kind, rules_of(uow.runtime.settings)),
                       exclude=frozenset(uuid.UUID(p.candidate_id) for p in of_kind),
                       limit=options_shown(uow, kind), language=reasons_language(uow))
        choice_id = uuid.uuid4()
        for number, option in enumerate(options, start=len(of_kind) + 1):
            made.append(await record_proposal(uow, profile, option, rank_number=number, choice_id=choice_id))
    return made


async def offer_freed_seats(uow: UnitOfWork) -> list[MatchProposed]:
    """Seats came free: every citizen still waiting for an activity (no open or accepted one) is proposed the
    best ones now within reach, as on their clarification."""
    busy = await repo.open_proposals(uow.session, Kind.activity)
    made = []
    for profile in await repo.profiles(uow.session, uow.runtime.settings.org_id):
        if Wish.activity in profile.wishes and str(profile.citizen_id) not in busy:
            made += await propose_best(uow, profile, [Kind.activity])
    return made


def shown_distance(distance_km: float | None) -> float | None:
    """What a proposal says of the distance: whole kilometres between the two areas."""
    return None if distance_km is None else float(round(distance_km))


async def record_proposal(uow: UnitOfWork, profile: CitizenProfile, chosen: Assessment, rank_number: int,
                          choice_id: uuid.UUID | None = None) -> MatchProposed:
    now = datetime.now(UTC)
    candidate = chosen.candidate
    need = transport_need(profile, candidate, chosen.distance_km)
    price = price_for(profile, candidate) if candidate.kind is Kind.activity else None
    cost_dkk = None if price is None else round(price)
    codes = [reason.as_json() for reason in chosen.reason_codes]
    wait_days = await waiting_days(uow, profile, candidate, now)
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
        estimated_wait_days=wait_days,
        rank=rank_number,
        choice_id=choice_id,
        proposed_at=now,
    )
    await uow.session.execute(proposals.insert().values(
        proposal_id=str(event.proposal_id), citizen_id=str(profile.citizen_id), kind=candidate.kind.value,
        candidate_id=str(candidate.candidate_id), score=chosen.score, rank=rank_number, reasons=codes,
        distance_km=shown_distance(chosen.distance_km), transport_need=need.value if need else None, cost_dkk=cost_dkk,
        status="proposed", proposed_at=now, choice_id=str(choice_id) if choice_id else None,
        estimated_wait_days=wait_days,
    ))
    await uow.publish(event)
    metrics_of(uow.runtime).proposals.labels(candidate.kind.value).inc()
    return event


# -- waiting time --------------------------------------------------------------------------------------

_ESTIMATES: WeakKeyDictionary[AsyncSession, dict[tuple[str, str, str], Any]] = WeakKeyDictionary()
"""Estimates worked out in one transaction: a batch of proposals reads the queues once per area and interest
(and the volunteer slots once)."""


def queue_interest(profile: CitizenProfile, candidate: Candidate) -> str:
    """What the citizen queues for: an activity's first interest they share (else its first), or a volunteer friend."""
    if candidate.kind is Kind.volunteer_friend:
        return Kind.volunteer_friend.value
    shared = sorted(profile.interests & candidate.interests) or sorted(candidate.interests)
    return shared[0] if shared else ""


async def waiting_days(uow: UnitOfWork, profile: CitizenProfile, candidate: Candidate, now: datetime) -> int | None:
    """The area's (postal code's) waiting time for what the citizen is proposed: `domain/waiting.py`."""
    key = (candidate.kind.value, profile.postal_code, queue_interest(profile, candidate))
    known = _ESTIMATES.setdefault(uow.session, {})
    if key not in known:
        known[key] = estimate_wait_days(await _queue(uow, profile, candidate.kind, key[2], now))
    return known[key]


async def _volunteer_slots(uow: UnitOfWork, since: datetime) -> tuple[int, int]:
    """Volunteer slots free now and freed since `since`: the same for every area, so worked out once per
    transaction (loading the volunteer pool takes most of a second with thousands of volunteers, and a batch
    assignment proposes to citizens of many areas)."""
    known = _ESTIMATES.setdefault(uow.session, {})
    key = (Kind.volunteer_friend.value, "*", "slots")
    if key not in known:
        pool = await repo.volunteer_candidates(uow.session, rules_of(uow.runtime.settings))
        known[key] = (sum(v.capacity_left or 0 for v in pool),
                      await repo.freed_since(uow.session, Kind.volunteer_friend, since))
    return known[key]


async def _queue(uow: UnitOfWork, profile: CitizenProfile, kind: Kind, interest: str, now: datetime) -> Queue:
    """The queue of the citizen's area for the interest (or for a volunteer friend) as it stands now."""
    session = uow.session
    since = now - timedelta(days=RATE_WINDOW_DAYS)
    holding = {(r.citizen_id, r.kind) for r in (await session.execute(
        sa.select(proposals.c.citizen_id, proposals.c.kind).where(proposals.c.status == "accepted"))).all()}
    rows = (await session.execute(sa.select(citizens).where(
        citizens.c.needs.is_not(None), citizens.c.citizen_id != str(profile.citizen_id)))).all()
    mine = await repo.citizen_row(session, profile.citizen_id)
    clarified = mine.needs_clarified_at if mine is not None and mine.needs_clarified_at else now
    ahead = 0
    for row in rows:
        if row.needs_clarified_at is None or row.needs_clarified_at > clarified or (row.citizen_id, kind.value) in holding:
            continue
        other = repo.profile_of(row)
        if other is None or other.postal_code != profile.postal_code:
            continue
        if kind is Kind.volunteer_friend and Wish.friend in other.wishes:
            ahead += 1
        elif kind is Kind.activity and wants_community(other) and interest in other.interests:
            ahead += 1
    if kind is Kind.volunteer_friend:
        free_now, freed = await _volunteer_slots(uow, since)
    else:
        area = set((await session.scalars(sa.select(activities.c.activity_id).where(
            activities.c.postal_code == profile.postal_code))).all())
        offers = [a for a in await repo.activity_candidates(session)
                  if str(a.candidate_id) in area and interest in a.interests]
        free_now = None if any(a.capacity_left is None for a in offers) else sum(a.capacity_left or 0 for a in offers)
        freed = await repo.freed_since(session, kind, since, [str(a.candidate_id) for a in offers])
    return Queue(ahead=ahead, free_now=free_now, freed=freed)
