"""Who may see and do what: each caller acts for one organisation in one role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    referrer = "referrer"
    """Submits cards and follows their own organisation's referrals."""
    staff = "staff"
    """Guides and coordinators; of the owning organisation they see and act on every referral."""
    service = "service"
    """Another organisation's service (e.g. notify) fetching contact details under consent."""


@dataclass(frozen=True)
class Caller:
    org: str
    role: Role
    key_name: str
    """Which configured credential was used: written to the access log, never the secret."""


def is_owner_staff(caller: Caller, owning_org: str) -> bool:
    return caller.role is Role.staff and caller.org == owning_org


def may_submit_as(caller: Caller, owning_org: str, referrer_org: str | None) -> bool:
    """Owning staff may enter any card (e.g. a relative's phone call); others only their own org's."""
    if caller.role is Role.service:
        return False
    return is_owner_staff(caller, owning_org) or referrer_org in (None, caller.org)


def may_read_referral(caller: Caller, owning_org: str, submitted_by_org: str) -> bool:
    """A referrer sees their own organisation's referrals; staff of the owning organisation see all."""
    if is_owner_staff(caller, owning_org):
        return True
    return caller.role in (Role.referrer, Role.staff) and caller.org == submitted_by_org


def may_read_contact(caller: Caller, consented_orgs: list[str]) -> bool:
    """Contact details go only to organisations named in the citizen's consent."""
    return caller.role in (Role.staff, Role.service) and caller.org in consented_orgs


def parse_api_keys(spec: str) -> dict[str, Caller]:
    """`org:role:secret` entries separated by commas -> secret -> caller.

    The key's name in logs is `org:role:<n>` so that secrets never reach a log line.
    """
    keys: dict[str, Caller] = {}
    for n, entry in enumerate(e.strip() for e in spec.split(",") if e.strip()):
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"API_KEYS entry {n + 1} is not org:role:secret")
        org, role, secret = parts
        if secret in keys:
            raise ValueError(f"API_KEYS entry {n + 1} repeats a secret")
        keys[secret] = Caller(org=org, role=Role(role), key_name=f"{org}:{role}:{n + 1}")
    return keys
