"""Who may see and do what (DESIGN.md section 9).

The caller comes from a verified token (`brobygger_runtime.auth.Caller`): its
organisation is the one whose issuer signed it, its roles those the token names.
Consent decides which organisation may see a citizen; the role decides what it
may do. These rules are pure: the routes ask them and answer 403/404.
"""

from __future__ import annotations

from collections.abc import Iterable

from brobygger_runtime.auth import Caller, Role

STAFF = (Role.coordinator, Role.guide)
"""The roles that work with citizens (a guide of a consented organisation, its coordinator)."""


def is_staff_of(caller: Caller, org: str) -> bool:
    return caller.organisation == org and caller.has(*STAFF)


def in_consent(caller: Caller, consented_orgs: Iterable[str]) -> bool:
    """The citizen's current consent names the caller's organisation."""
    return caller.organisation in set(consented_orgs)


def may_submit_as(caller: Caller, owning_org: str, referrer_org: str | None) -> bool:
    """Staff of the owning organisation may enter any card (e.g. a relative's phone call, or a
    card on a professional's behalf); everyone else only cards of their own organisation, or a
    relative's or self-referral card that names no organisation."""
    if not caller.has(Role.referrer, *STAFF):
        return False
    return is_staff_of(caller, owning_org) or referrer_org in (None, caller.organisation)


def submitted(caller: Caller, submitted_by_org: str, submitted_by_subject: str | None) -> bool:
    """The caller is the very person (subject at their organisation's issuer) who submitted the card."""
    return submitted_by_subject is not None and (caller.organisation, caller.subject) == (submitted_by_org, submitted_by_subject)


def sees_everything_of(caller: Caller, owning_org: str) -> bool:
    """The owning organisation's coordinators see every referral of this instance."""
    return caller.organisation == owning_org and caller.has(Role.coordinator)


def may_open_citizen(caller: Caller, owning_org: str, consented_orgs: Iterable[str]) -> bool:
    """Staff see a citizen's full card when the consent names their organisation, and the owning
    organisation's coordinators see every referral made to it."""
    if sees_everything_of(caller, owning_org):
        return True
    return caller.has(*STAFF) and in_consent(caller, consented_orgs)


def may_read_contact(caller: Caller, consented_orgs: Iterable[str]) -> bool:
    """Contact details go only to a service (notify) or coordinator of an organisation in the consent."""
    return caller.has(Role.service, Role.coordinator) and in_consent(caller, consented_orgs)


def may_change_consent(caller: Caller, consented_orgs: Iterable[str]) -> bool:
    """Consent changes only through a coordinator of an organisation the citizen named."""
    return caller.has(Role.coordinator) and in_consent(caller, consented_orgs)
