"""Use cases about the citizen rather than one card: consent, erasure, contact details, status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from brobygger_contracts.events.referral import CitizenErased
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import repository as repo
from referral.domain.access import Caller, is_owner_staff, may_read_contact
from referral.domain.card import Problem
from referral.domain.consent import ConsentGiver, unknown_orgs
from referral.domain.errors import Forbidden, NotFound
from referral.domain.status import Milestone, current_status, in_order
from referral.service_layer.referrals import Partnership, Unprocessable, citizen_of, publish_consent_change


def _require_owner_staff(caller: Caller, partnership: Partnership, action: str) -> None:
    if not is_owner_staff(caller, partnership.owning_org):
        raise Forbidden(f"only staff of {partnership.owning_org} {action}")


async def change_consent(
    uow: UnitOfWork, citizen_id: uuid.UUID, organisations: list[str], given_by: ConsentGiver,
    caller: Caller, partnership: Partnership,
) -> tuple[list[str], list[str], list[str]]:
    """Replaces the consented organisations; publishes ConsentChanged when the set changed.

    An empty list withdraws consent: every organisation must forget the citizen.
    """
    _require_owner_staff(caller, partnership, "change consent")
    outside = unknown_orgs(organisations, partnership.orgs)
    if outside:
        raise Unprocessable([Problem(("organisations", i), f"{organisations[i]!r} is not an organisation of this partnership") for i in outside])
    row = await citizen_of(uow, str(citizen_id), for_update=True)
    now = datetime.now(UTC)
    before = list(row.consented_orgs)
    consented = await publish_consent_change(uow, row.citizen_id, before, organisations, given_by.value, caller, now)
    await repo.update_citizen(uow.session, row.citizen_id, dict(
        consented_orgs=consented, consent_given_by=given_by.value, consent_given_at=now, updated_at=now,
    ))
    return consented, [o for o in consented if o not in before], [o for o in before if o not in consented]


async def erase_citizen(uow: UnitOfWork, citizen_id: uuid.UUID, caller: Caller, partnership: Partnership) -> datetime:
    """Deletes the citizen's personal data here and tells every service to forget them."""
    _require_owner_staff(caller, partnership, "erase citizens")
    row = await citizen_of(uow, str(citizen_id), for_update=True)
    now = datetime.now(UTC)
    await repo.erase_personal_data(uow.session, row.citizen_id, now)
    await uow.publish(CitizenErased(citizen_id=citizen_id, erased_at=now))
    return now


@dataclass(frozen=True)
class Contact:
    citizen_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    address: str | None
    postal_code: str
    language: str


async def contact_details(uow: UnitOfWork, citizen_id: uuid.UUID, caller: Caller) -> Contact | None:
    """Contact details for an organisation named in the citizen's consent; None when refused.

    Every request is logged, refusals too: so the refusal is a return value, not an
    exception that would roll the log entry back.
    """
    row = await citizen_of(uow, str(citizen_id))
    granted = may_read_contact(caller, list(row.consented_orgs))
    await repo.log_contact_access(uow.session, row.citizen_id, caller.org, caller.key_name, granted)
    if not granted:
        return None
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


async def referrer_contact(uow: UnitOfWork, referral_id: uuid.UUID, caller: Caller) -> ReferrerContact | None:
    """The referring person's contact details, for an organisation in the citizen's consent, and
    only while they follow the citizen's milestones; None when refused (logged like citizens')."""
    row = await repo.referral(uow.session, str(referral_id))
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    citizen = await citizen_of(uow, row.citizen_id)
    granted = row.referrer_wants_milestones and may_read_contact(caller, list(citizen.consented_orgs))
    await repo.log_contact_access(uow.session, row.citizen_id, caller.org, caller.key_name, granted)
    if not granted:
        return None
    return ReferrerContact(referral_id=referral_id, name=row.referrer_name, phone=row.referrer_phone,
                           email=row.referrer_email, language=row.referrer_language or citizen.language)


async def record_milestone(uow: UnitOfWork, citizen_id: uuid.UUID, milestone: Milestone, at: datetime) -> bool:
    """A journey event moved the citizen on; unknown or erased citizens are not ours to follow."""
    row = await repo.citizen(uow.session, str(citizen_id))
    if row is None or row.erased_at is not None:
        return False
    return await repo.reach_milestone(uow.session, row.citizen_id, milestone, at)


async def status_of(uow: UnitOfWork, citizen_id: str) -> tuple[Milestone, list[tuple[Milestone, datetime]]]:
    reached = await repo.milestones_of(uow.session, citizen_id)
    return current_status(reached), in_order(reached)
