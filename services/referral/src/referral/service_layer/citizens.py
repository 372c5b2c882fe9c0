"""Use cases about the citizen rather than one card: consent, erasure, contact details, status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from brobygger_contracts.events.referral import CitizenErased
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import repository as repo
from referral.service_layer import keys
from brobygger_runtime import access_log, erasure
from brobygger_runtime.auth import Caller, Role
from referral.domain.access import may_change_consent, may_read_contact
from referral.domain.card import Problem
from referral.domain.consent import ConsentGiver, unknown_orgs
from referral.domain.errors import Erased, Forbidden, Hidden, NotFound, Refused
from referral.domain.status import JOURNEY_ENDED, Milestone, current_status, in_order
from referral.service_layer.referrals import Partnership, Unprocessable, citizen_of, publish_consent_change


def _require_owner_coordinator(caller: Caller, partnership: Partnership, action: str) -> None:
    """Checked before anything is looked up: the refusal tells nothing about the citizen."""
    if not (caller.organisation == partnership.owning_org and caller.has(Role.coordinator)):
        raise Forbidden(f"only coordinators of {partnership.owning_org} {action}")


async def _citizen_for(uow: UnitOfWork, citizen_id: str, caller: Caller, partnership: Partnership, allowed, *,  # noqa: ANN001
                       fields: tuple[str, ...], purpose: str, for_update: bool = False):  # noqa: ANN202 - a table row
    """The citizen when `allowed(consented_orgs)`; otherwise 404 as for an unknown citizen (the
    refusal is logged). An erased citizen is 410 for the owning organisation, 404 for the rest."""
    row = await repo.citizen(uow.session, citizen_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no citizen {citizen_id}")
    if row.erased_at is not None:
        if caller.organisation == partnership.owning_org:
            raise Erased(f"citizen {citizen_id} was erased on request")
        raise Hidden(f"no citizen {citizen_id}", row.citizen_id, fields, purpose)
    if not allowed(row.consented_orgs):
        raise Hidden(f"no citizen {citizen_id}", row.citizen_id, fields, purpose)
    return row


async def change_consent(
    uow: UnitOfWork, citizen_id: uuid.UUID, organisations: list[str], given_by: ConsentGiver,
    caller: Caller, partnership: Partnership,
) -> tuple[list[str], list[str], list[str]]:
    """Replaces the consented organisations; publishes ConsentChanged when the set changed.

    Only a coordinator of an organisation the citizen's consent names. An empty list withdraws
    consent: every organisation must forget the citizen (a ConsentChanged, never an erasure).
    """
    outside = unknown_orgs(organisations, partnership.orgs)
    if outside:
        raise Unprocessable([Problem(("organisations", i), f"{organisations[i]!r} is not an organisation of this partnership") for i in outside])
    row = await _citizen_for(uow, str(citizen_id), caller, partnership, lambda orgs: may_change_consent(caller, orgs),
                             fields=("consented_orgs",), purpose="change consent", for_update=True)
    now = datetime.now(UTC)
    before = list(row.consented_orgs)
    await access_log.record(uow.session, uow.runtime.tables.access_log, caller, row.citizen_id,
                            fields=("consented_orgs",), purpose="change consent", allowed=True)
    consented = await publish_consent_change(uow, row.citizen_id, before, organisations, given_by.value, caller, now)
    await repo.update_citizen(uow.session, row.citizen_id, dict(
        consented_orgs=consented, consent_given_by=given_by.value, consent_given_at=now, updated_at=now,
    ))
    return consented, [o for o in consented if o not in before], [o for o in before if o not in consented]


async def erase_citizen(uow: UnitOfWork, citizen_id: uuid.UUID, caller: Caller, partnership: Partnership) -> datetime:
    """Deletes the citizen's personal data here and tells every service to forget them.
    For the owning organisation's coordinators (the controller of this copy of the data)."""
    _require_owner_coordinator(caller, partnership, "erase citizens")
    row = await citizen_of(uow, str(citizen_id), for_update=True)
    now = datetime.now(UTC)
    await erase(uow, row.citizen_id, now)
    return now


async def erase(uow: UnitOfWork, citizen_id: str, now: datetime) -> None:
    """Personal columns cleared, outbox rows about the citizen stripped of their sealed
    boxes, SQLite checkpointed after the commit; then every service is told."""
    await repo.erase_personal_data(uow.session, citizen_id, now)
    await keys.delete_data_key(uow, citizen_id)  # crypto-shredding: no sealed copy opens again
    await erasure.forget_copies(uow, citizen_id)
    await uow.publish(CitizenErased(citizen_id=uuid.UUID(citizen_id), erased_at=now))


async def forget_ended_journeys(uow: UnitOfWork, ended_before: datetime) -> int:
    """Retention: a citizen whose journey ended (completed, dropped out, declined, escalated)
    before `ended_before` and who was not referred again is erased as on request: personal
    data gone here, every service told. Returns how many."""
    now = datetime.now(UTC)
    ended = [m.value for m in JOURNEY_ENDED]
    gone = await repo.citizens_whose_journey_ended(uow.session, ended, ended_before)
    for citizen_id in gone:
        await erase(uow, citizen_id, now)
    return len(gone)


@dataclass(frozen=True)
class Contact:
    citizen_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    address: str | None
    postal_code: str
    language: str


CONTACT_FIELDS = ("name", "phone", "email", "address", "postal_code", "language")
REFERRER_FIELDS = ("referrer_name", "referrer_phone", "referrer_email", "referrer_language")


async def contact_details(uow: UnitOfWork, citizen_id: uuid.UUID, caller: Caller, partnership: Partnership) -> Contact:
    """Contact details for a service or coordinator of an organisation named in the citizen's consent."""
    purpose = "contact the citizen"
    row = await _citizen_for(uow, str(citizen_id), caller, partnership, lambda orgs: may_read_contact(caller, orgs),
                             fields=CONTACT_FIELDS, purpose=purpose)
    await access_log.record(uow.session, uow.runtime.tables.access_log, caller, row.citizen_id,
                            fields=CONTACT_FIELDS, purpose=purpose, allowed=True)
    return Contact(
        citizen_id=citizen_id, name=row.name, phone=row.phone, email=row.email, address=row.address,
        postal_code=row.postal_code, language=row.language,
    )


@dataclass(frozen=True)
class ReferrerContact:
    referral_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    language: str


async def referrer_contact(uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller, partnership: Partnership) -> ReferrerContact | None:
    """The referring person's contact details, for a service or coordinator of an organisation in the
    citizen's consent (else 404), and only while they follow the milestones (else None: 403).
    Logged under the citizen's id, refusals too."""
    purpose = "tell the referrer about a milestone"
    row = await repo.referral(uow.session, str(referral_id))
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    citizen = await _citizen_for(uow, row.citizen_id, caller, partnership, lambda orgs: may_read_contact(caller, orgs),
                                 fields=REFERRER_FIELDS, purpose=purpose)
    granted = row.referrer_wants_milestones
    await access_log.record(uow.session, uow.runtime.tables.access_log, caller, row.citizen_id,
                            fields=REFERRER_FIELDS, purpose=purpose, allowed=granted)
    if not granted:
        return None
    return ReferrerContact(referral_id=referral_id, name=row.referrer_name, phone=row.referrer_phone,
                           email=row.referrer_email, language=row.referrer_language or citizen.language)


DUPLICATE_FIELDS = ("name", "birth_year", "postal_code", "address")


@dataclass(frozen=True)
class PersonSummary:
    citizen_id: str
    name: str | None
    birth_year: int | None
    postal_code: str | None
    address: str | None
    consented_orgs: list[str]
    erased: bool


@dataclass(frozen=True)
class PossibleDuplicate:
    duplicate_id: str
    referral_id: str
    """The card that became the new record."""
    submitted_by_org: str
    found_at: datetime
    new: PersonSummary
    """The record the card created."""
    known: PersonSummary
    """The citizen it resembles; the submitting organisation is not in their consent."""
    resolution: str | None
    """merge or distinct; empty while open."""
    resolved_at: datetime | None


def _summary(row) -> PersonSummary:  # noqa: ANN001 - a table row
    return PersonSummary(row.citizen_id, row.name, row.birth_year, row.postal_code, row.address,
                         list(row.consented_orgs), row.erased_at is not None)


async def possible_duplicates(
    uow: UnitOfWork, caller: Caller, partnership: Partnership, *, open_only: bool, limit: int, offset: int,
) -> list[PossibleDuplicate]:
    """Cards that resembled a known citizen outside whose consent they were submitted: for the owning
    organisation's coordinators to confirm (both people's identifying details; each read logged)."""
    _require_owner_coordinator(caller, partnership, "see possible duplicates")
    found: list[PossibleDuplicate] = []
    for row in await repo.possible_duplicate_list(uow.session, open_only=open_only, limit=limit, offset=offset):
        people = []
        for citizen_id in (row.new_citizen_id, row.known_citizen_id):
            people.append(_summary(await repo.citizen(uow.session, citizen_id)))
            await access_log.record(uow.session, uow.runtime.tables.access_log, caller, citizen_id,
                                    fields=DUPLICATE_FIELDS, purpose="confirm a possible duplicate", allowed=True)
        found.append(PossibleDuplicate(row.duplicate_id, row.referral_id, row.submitted_by_org, row.found_at,
                                       people[0], people[1], row.resolution, row.resolved_at))
    return found


async def resolve_duplicate(
    uow: UnitOfWork, duplicate_id: uuid.UUID, merge: bool, caller: Caller, partnership: Partnership,
) -> str:
    """`distinct`: two people, nothing changes. `merge`: the new record's referrals move to the known
    citizen (whose details and consent stay as they are) and the new record is erased here and on the
    bus (CitizenErased of the new id only), so the partnership keeps one journey."""
    _require_owner_coordinator(caller, partnership, "resolve possible duplicates")
    row = await repo.possible_duplicate(uow.session, str(duplicate_id), for_update=True)
    if row is None:
        raise NotFound(f"no possible duplicate {duplicate_id}")
    if row.resolution is not None:
        raise Refused(f"already resolved as {row.resolution}")
    now = datetime.now(UTC)
    if merge:
        known = await repo.citizen(uow.session, row.known_citizen_id, for_update=True)
        new = await repo.citizen(uow.session, row.new_citizen_id, for_update=True)
        if known.erased_at is not None or new.erased_at is not None:
            raise Refused("one of the two was erased in the meantime: resolve as distinct")
        await repo.move_referrals(uow.session, row.new_citizen_id, row.known_citizen_id)
        await erase(uow, row.new_citizen_id, now)
    await repo.update_possible_duplicate(uow.session, row.duplicate_id, dict(
        resolution="merge" if merge else "distinct", resolved_by=caller.subject[:200], resolved_at=now,
    ))
    return "merge" if merge else "distinct"


async def record_milestone(uow: UnitOfWork, citizen_id: uuid.UUID, milestone: Milestone, at: datetime) -> bool:
    """A journey event moved the citizen on; unknown or erased citizens are not ours to follow."""
    row = await repo.citizen(uow.session, str(citizen_id))
    if row is None or row.erased_at is not None:
        return False
    return await repo.reach_milestone(uow.session, row.citizen_id, milestone, at)


async def status_of(uow: UnitOfWork, citizen_id: str) -> tuple[Milestone, list[tuple[Milestone, datetime]]]:
    reached = await repo.milestones_of(uow.session, citizen_id)
    return current_status(reached), in_order(reached)
