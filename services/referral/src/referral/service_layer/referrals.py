"""Use cases of the referral card: one transaction each, events through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from datetime import UTC, datetime

from brobygger_contracts.events.referral import (
    ConsentChanged,
    ReferralReceived,
)
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import repository as repo
from referral.service_layer import keys
from referral.domain import citizen as people
from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role
from referral.domain.access import in_consent, may_open_citizen, may_submit_as, submitted
from referral.domain.card import Problem, ReferralCard, card_problems
from referral.domain.consent import change_consent
from referral.domain.errors import Erased, Forbidden, Hidden, NotFound
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
    """Stores the card and publishes ReferralReceived.

    The card is linked to a known citizen only when the caller's organisation is in that
    citizen's current consent; a resemblance outside the consent becomes a new citizen record
    and a possible duplicate for the owning organisation's coordinators. A card never changes
    a known citizen's stored details or consent.

    With an idempotency key, a retried request answers what the first one created
    and publishes nothing again.
    """
    now = datetime.now(UTC)
    check_card(card, partnership, now)
    if not may_submit_as(caller, partnership.owning_org, card.referrer.org):
        raise Forbidden(f"{caller.organisation} may not submit a referral on behalf of {card.referrer.org}")
    session = uow.session
    org = caller.organisation
    if idempotency_key is not None:
        await repo.lock_submission(session, org, idempotency_key)
        earlier = await repo.earlier_submission(session, org, idempotency_key)
        if earlier is not None:
            return Accepted(uuid.UUID(earlier.referral_id), uuid.UUID(earlier.citizen_id), earlier.repeat_referral, replayed=True)
    known, resembling = await _known_citizen(uow, card, caller)
    person = card.citizen
    supplied = person.model_dump(mode="json", exclude_none=True)
    if known is None:
        citizen_id = str(uuid.uuid4())
        await repo.add_citizen(session, dict(
            citizen_id=citizen_id, name=person.name, birth_year=person.birth_year, postal_code=person.postal_code,
            name_key=people.name_key(person.birth_year, person.name), language=person.language,
            address=person.address, phone=person.phone, email=person.email, lives_alone=person.lives_alone,
            consented_orgs=list(dict.fromkeys(card.consent.organisations)), consent_given_by=card.consent.given_by.value,
            consent_given_at=card.consent.given_at, created_at=now, updated_at=now,
        ))
        await repo.reach_milestone(session, citizen_id, Milestone.received, now)
        await keys.create_data_key(uow, citizen_id, now)
        on_bus = dict(postal_code=person.postal_code, age_band=people.age_band(person.birth_year, now.year),
                      language=person.language, lives_alone=person.lives_alone,
                      consented_orgs=list(dict.fromkeys(card.consent.organisations)))
    else:
        # Linked: the stored details and the stored consent stand; the card's go on this referral only.
        citizen_id = known.citizen_id
        on_bus = dict(postal_code=known.postal_code, age_band=people.age_band(known.birth_year, now.year),
                      language=known.language, lives_alone=known.lives_alone, consented_orgs=list(known.consented_orgs))
    referral_id = uuid.uuid4()
    await repo.add_referral(session, dict(
        referral_id=str(referral_id), citizen_id=citizen_id, source=card.referrer.source.value,
        referrer_org=card.referrer.org, submitted_by_org=org, submitted_by_subject=caller.subject[:200], supplied=supplied,
        referrer_name=card.referrer.name, referrer_phone=card.referrer.phone, referrer_email=card.referrer.email,
        referrer_relation=card.referrer.relation, referrer_wants_milestones=card.referrer.wants_milestones,
        referrer_language=card.referrer.language, reason=card.reason, urgency=card.urgency.value,
        repeat_referral=known is not None, received_at=now, state=ReferralState.received.value,
    ))
    for row in resembling:
        await repo.add_possible_duplicate(session, dict(
            duplicate_id=str(uuid.uuid4()), referral_id=str(referral_id), new_citizen_id=citizen_id,
            known_citizen_id=row.citizen_id, submitted_by_org=org, found_at=now,
        ))
    if idempotency_key is not None:
        await repo.record_submission(session, org, idempotency_key, str(referral_id), now)
    await uow.publish(ReferralReceived(
        referral_id=referral_id, citizen_id=uuid.UUID(citizen_id), source=card.referrer.source,
        referrer_org=card.referrer.org, urgency=card.urgency, repeat_referral=known is not None,
        referrer_follows=card.referrer.wants_milestones, received_at=now, **on_bus,
    ))
    return Accepted(referral_id=referral_id, citizen_id=uuid.UUID(citizen_id), repeat_referral=known is not None)


async def _known_citizen(uow: UnitOfWork, card: ReferralCard, caller: Caller):  # noqa: ANN202 - table rows
    """(the citizen to link the card to, citizens it resembles but may not be linked to).

    By explicit id: only a citizen whose consent names the caller's organisation; any other id
    (unknown, erased, or outside the consent) is refused alike, so the answer discloses nothing.
    By who and where they are: the first resembling citizen inside the consent; those outside
    it are possible duplicates for the owning organisation's coordinators to confirm.
    """
    if card.citizen_id is not None:
        row = await repo.citizen(uow.session, str(card.citizen_id), for_update=True)
        if row is None or row.erased_at is not None or not in_consent(caller, row.consented_orgs):
            raise Unprocessable([Problem(("citizen_id",), f"no citizen with this id that {caller.organisation} may refer again; "
                                                          "refer them as a new citizen")])
        return row, []
    card_place = people.Whereabouts(card.citizen.postal_code, card.citizen.address)
    key = people.name_key(card.citizen.birth_year, card.citizen.name)
    await repo.lock_name_key(uow.session, key)
    resembling = [row for row in await repo.citizens_by_name_key(uow.session, key)
                  if people.same_person(people.Whereabouts(row.postal_code, row.address), card_place)]
    for row in resembling:
        if in_consent(caller, row.consented_orgs):
            return row, []
    return None, resembling


async def publish_consent_change(
    uow: UnitOfWork, citizen_id: str, before: list[str], after: list[str], given_by: str | None, caller: Caller, now: datetime
) -> list[str]:
    change = change_consent(list(before), list(after))
    if change.changed:
        await repo.record_consent_change(uow.session, dict(
            citizen_id=citizen_id, consented_orgs=change.consented, added=change.added, removed=change.removed,
            given_by=given_by, changed_by_org=caller.organisation, changed_at=now,
        ))
        await uow.publish(ConsentChanged(
            citizen_id=uuid.UUID(citizen_id), consented_orgs=change.consented, added=change.added,
            removed=change.removed, changed_at=now,
        ))
    return change.consented


@dataclass(frozen=True)
class Visible:
    """A referral the caller may open, and how much of it."""

    referral: Any
    citizen: Any
    full: bool
    """True: the whole card and the citizen's stored details; False: only what the caller supplied."""


async def visible_referral(
    uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller, partnership: Partnership, *,
    fields: tuple[str, ...] = ("referral",), purpose: str = "read a referral",
) -> Visible:
    """The referral with its citizen, when the caller may open it: staff within the citizen's consent
    (the owning organisation's coordinators: every referral) see it whole; the person who submitted
    it sees what they supplied. Anyone else: 404 as for an unknown referral, logged as refused."""
    row = await repo.referral(uow.session, str(referral_id))
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    citizen = await repo.citizen(uow.session, row.citizen_id)
    if may_open_citizen(caller, partnership.owning_org, citizen.consented_orgs):
        full = True
    elif submitted(caller, row.submitted_by_org, row.submitted_by_subject):
        full = False
    else:
        raise Hidden(f"no referral {referral_id}", row.citizen_id, fields, purpose)
    await access_log.record(uow.session, uow.runtime.tables.access_log, caller, row.citizen_id, fields=fields,
                            purpose=purpose if full else f"{purpose} (own card)", allowed=True)
    return Visible(row, citizen, full)


async def stop_following(uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller, partnership: Partnership) -> None:
    """The referrer opts out of milestone messages; repeating it changes nothing. The person who
    submitted the card, or a coordinator who may open it."""
    row = await repo.referral(uow.session, str(referral_id))
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    citizen = await repo.citizen(uow.session, row.citizen_id)
    own = submitted(caller, row.submitted_by_org, row.submitted_by_subject)
    if not own and not (caller.has(Role.coordinator) and may_open_citizen(caller, partnership.owning_org, citizen.consented_orgs)):
        raise Hidden(f"no referral {referral_id}", row.citizen_id, ("referrer_wants_milestones",), "stop following")
    await repo.update_referral(uow.session, row.referral_id, {"referrer_wants_milestones": False})


async def citizen_of(uow: UnitOfWork, citizen_id: str, *, for_update: bool = False):  # noqa: ANN201
    row = await repo.citizen(uow.session, citizen_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no citizen {citizen_id}")
    if row.erased_at is not None:
        raise Erased(f"citizen {citizen_id} was erased on request")
    return row
