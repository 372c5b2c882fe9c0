"""Use cases of the referral card: one transaction each, events through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from brobygger_contracts.events.referral import (
    ConsentChanged,
    ReferralReceived,
)
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import repository as repo
from referral.domain import citizen as people
from referral.domain.access import Caller, may_read_referral, may_submit_as
from referral.domain.card import Problem, ReferralCard, card_problems
from referral.domain.consent import change_consent
from referral.domain.errors import Erased, Forbidden, NotFound
from referral.domain.status import Milestone
from referral.domain.triage import ReferralState


@dataclass(frozen=True)
class Partnership:
    """What the service knows about its partnership: who owns it here and who belongs."""

    owning_org: str
    orgs: frozenset[str]


class Unprocessable(Exception):
    """The input breaks a rule beyond its types; answered 422 naming the fields."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = problems

    @classmethod
    def single(cls, loc: tuple[str | int, ...], msg: str) -> "Unprocessable":
        return cls([Problem(loc, msg)])


@dataclass(frozen=True)
class Accepted:
    referral_id: uuid.UUID
    citizen_id: uuid.UUID
    repeat_referral: bool
    replayed: bool = False
    """True when an earlier request with the same idempotency key already created it."""


def check_card(card: ReferralCard, partnership: Partnership, now: datetime) -> None:
    problems = card_problems(card, partnership.orgs, now)
    if problems:
        raise Unprocessable(problems)


async def submit_referral(
    uow: UnitOfWork, card: ReferralCard, caller: Caller, partnership: Partnership, idempotency_key: str | None = None
) -> Accepted:
    """Stores the card and its citizen here, merges a known citizen, publishes ReferralReceived.

    With an idempotency key, a retried request answers what the first one created
    and publishes nothing again.
    """
    now = datetime.now(UTC)
    check_card(card, partnership, now)
    if not may_submit_as(caller, partnership.owning_org, card.referrer.org):
        raise Forbidden(f"{caller.org} may not submit a referral on behalf of {card.referrer.org}")
    session = uow.session
    if idempotency_key is not None:
        await repo.lock_submission(session, caller.org, idempotency_key)
        earlier = await repo.earlier_submission(session, caller.org, idempotency_key)
        if earlier is not None:
            return Accepted(uuid.UUID(earlier.referral_id), uuid.UUID(earlier.citizen_id), earlier.repeat_referral, replayed=True)
    known = await _known_citizen(uow, card)
    consent = card.consent
    person = card.citizen
    details = dict(
        name=person.name, birth_year=person.birth_year, postal_code=person.postal_code,
        name_key=people.name_key(person.birth_year, person.name), language=person.language,
        consented_orgs=list(dict.fromkeys(consent.organisations)), consent_given_by=consent.given_by.value,
        consent_given_at=consent.given_at, updated_at=now,
    )
    # Fields left empty on a later card do not wipe what an earlier one said.
    details |= {k: v for k, v in (("address", person.address), ("phone", person.phone), ("email", person.email),
                                  ("lives_alone", person.lives_alone)) if v is not None}
    if known is None:
        citizen_id = str(uuid.uuid4())
        await repo.add_citizen(session, details | {"citizen_id": citizen_id, "created_at": now})
        await repo.reach_milestone(session, citizen_id, Milestone.received, now)
    else:
        citizen_id = known.citizen_id
        await repo.update_citizen(session, citizen_id, details)
        await publish_consent_change(uow, citizen_id, known.consented_orgs, consent.organisations, consent.given_by.value, caller, now)
    referral_id = uuid.uuid4()
    await repo.add_referral(session, dict(
        referral_id=str(referral_id), citizen_id=citizen_id, source=card.referrer.source.value,
        referrer_org=card.referrer.org, submitted_by_org=caller.org, submitted_with_key=caller.key_name,
        referrer_name=card.referrer.name, referrer_phone=card.referrer.phone, referrer_email=card.referrer.email,
        referrer_relation=card.referrer.relation, referrer_wants_milestones=card.referrer.wants_milestones,
        referrer_language=card.referrer.language, reason=card.reason, urgency=card.urgency.value,
        repeat_referral=known is not None, received_at=now, state=ReferralState.received.value,
    ))
    if idempotency_key is not None:
        await repo.record_submission(session, caller.org, idempotency_key, str(referral_id), now)
    await uow.publish(ReferralReceived(
        referral_id=referral_id, citizen_id=uuid.UUID(citizen_id), source=card.referrer.source,
        referrer_org=card.referrer.org, urgency=card.urgency, postal_code=person.postal_code,
        age_band=people.age_band(person.birth_year, now.year), language=person.language,
        lives_alone=person.lives_alone, consented_orgs=details["consented_orgs"],
        repeat_referral=known is not None, referrer_follows=card.referrer.wants_milestones, received_at=now,
    ))
    return Accepted(referral_id=referral_id, citizen_id=uuid.UUID(citizen_id), repeat_referral=known is not None)


async def _known_citizen(uow: UnitOfWork, card: ReferralCard):  # noqa: ANN202 - a table row
    """The citizen this card is about, if referred before: by explicit id, else by who and where they are."""
    if card.citizen_id is not None:
        row = await repo.citizen(uow.session, str(card.citizen_id), for_update=True)
        if row is None:
            raise Unprocessable([Problem(("citizen_id",), "no citizen with this id was referred here")])
        if row.erased_at is not None:
            raise Unprocessable([Problem(("citizen_id",), "this citizen was erased on request; refer them as a new citizen")])
        return row
    card_place = people.Whereabouts(card.citizen.postal_code, card.citizen.address)
    key = people.name_key(card.citizen.birth_year, card.citizen.name)
    await repo.lock_name_key(uow.session, key)
    for row in await repo.citizens_by_name_key(uow.session, key):
        if people.same_person(people.Whereabouts(row.postal_code, row.address), card_place):
            return row
    return None


async def publish_consent_change(
    uow: UnitOfWork, citizen_id: str, before: list[str], after: list[str], given_by: str | None, caller: Caller, now: datetime
) -> list[str]:
    change = change_consent(list(before), list(after))
    if change.changed:
        await repo.record_consent_change(uow.session, dict(
            citizen_id=citizen_id, consented_orgs=change.consented, added=change.added, removed=change.removed,
            given_by=given_by, changed_by_org=caller.org, changed_at=now,
        ))
        await uow.publish(ConsentChanged(
            citizen_id=uuid.UUID(citizen_id), consented_orgs=change.consented, added=change.added,
            removed=change.removed, changed_at=now,
        ))
    return change.consented


async def visible_referral(uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller, partnership: Partnership):  # noqa: ANN201
    row = await repo.referral(uow.session, str(referral_id))
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    if not may_read_referral(caller, partnership.owning_org, row.submitted_by_org):
        raise Forbidden(f"referral {referral_id} is not visible to {caller.org} as {caller.role.value}")
    return row


async def stop_following(uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller, partnership: Partnership) -> None:
    """The referrer opts out of milestone messages; repeating it changes nothing."""
    row = await visible_referral(uow, referral_id, caller, partnership)
    await repo.update_referral(uow.session, row.referral_id, {"referrer_wants_milestones": False})


async def citizen_of(uow: UnitOfWork, citizen_id: str, *, for_update: bool = False):  # noqa: ANN201
    row = await repo.citizen(uow.session, citizen_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no citizen {citizen_id}")
    if row.erased_at is not None:
        raise Erased(f"citizen {citizen_id} was erased on request")
    return row
