"""The referral card (henvisningskort): what a referrer fills in, and its rules.

Field types and sizes are checked by the model; rules that need the partnership
or today's date are checked by `card_problems`, which names the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from brobygger_contracts.events.referral import ReferralSource, Urgency
from brobygger_contracts.types import Language, OrgId, PostalCode
from referral.domain.consent import ConsentGiver, unknown_orgs
from brobygger_runtime.text import line, paragraphs

REASON_MAX_LENGTH = 2000
"""The referrer's own words are kept here only; long case notes belong elsewhere."""

# Sources where a professional refers on behalf of an organisation.
PROFESSIONAL_SOURCES = frozenset(s for s in ReferralSource if s not in (ReferralSource.relative, ReferralSource.self_referral))


PersonName = line(120)
Phone = line(30, pattern=r"^\+?[0-9][0-9 ()-]{5,22}$")
Email = line(254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Referrer(_Card):
    """Who refers the citizen."""

    source: ReferralSource
    """home_care, nurse, therapist, dementia_consultant, gp, hospital, municipal_staff, relative, self, outreach."""
    org: OrgId | None = None
    """The referring organisation; required for professionals, empty for relatives and self-referrals."""
    name: PersonName | None = None
    """The referring person; required when a relative refers."""
    phone: Phone | None = None
    """How to reach the referrer (a relative needs a phone or an e-mail)."""
    email: Email | None = None
    """How to reach the referrer."""
    relation: line(60) | None = None
    """A relative's relation to the citizen, e.g. `daughter`; required when a relative refers."""
    wants_milestones: StrictBool = False
    """The referrer wants to hear at each milestone (first contact, a match, first visit, active,
    completed, or handed to professionals); needs their name and an e-mail or phone."""
    language: Language | None = None
    """The referrer's language for those messages; the citizen's when empty."""


class CitizenDetails(_Card):
    """The citizen: personal data that stays in the referral service."""

    name: PersonName
    """Full name."""
    birth_year: StrictInt = Field(ge=1900, le=2100)
    """Year of birth; others only ever see an age band."""
    postal_code: PostalCode
    """Postal code (Danish 4 digits, Swedish 5 digits without the space)."""
    address: line(200) | None = None
    """Street address."""
    phone: Phone | None = None
    """Telephone."""
    email: Email | None = None
    """E-mail."""
    language: Language = "da"
    """Preferred language (ISO 639-1)."""
    lives_alone: StrictBool | None = None
    """Whether the citizen lives alone, when known."""


class Consent(_Card):
    """The citizen's consent to share their data."""

    given_by: ConsentGiver
    """Who gave it: the citizen, or a relative, guardian or attorney on their behalf."""
    given_at: datetime
    """When it was given."""
    organisations: list[OrgId] = Field(min_length=1, max_length=50)
    """Organisations of the partnership that may receive the citizen's data; at least one."""


class ReferralCard(_Card):
    """A referral card: who refers, whom, why, how soon, and with which consent."""

    referrer: Referrer
    citizen: CitizenDetails
    reason: paragraphs(REASON_MAX_LENGTH, min_length=1)
    """Why the referrer is concerned, in their own words. Stored here only, never published."""
    urgency: Urgency = Urgency.routine
    """How soon first contact should happen."""
    consent: Consent
    citizen_id: UUID | None = None
    """The citizen's pseudonymous id, when the referrer knows the citizen was referred before."""


@dataclass(frozen=True)
class Problem:
    """One reason a card is refused: the field (as a path) and what is wrong."""

    loc: tuple[str | int, ...]
    msg: str


def card_problems(card: ReferralCard, partnership_orgs: frozenset[str], now: datetime) -> list[Problem]:
    """Rules beyond field types: source-specific fields, consent within the partnership, dates."""
    problems: list[Problem] = []
    referrer = card.referrer
    if referrer.source in PROFESSIONAL_SOURCES and not referrer.org:
        problems.append(Problem(("referrer", "org"), f"required when the source is {referrer.source.value}"))
    if referrer.source not in PROFESSIONAL_SOURCES and referrer.org:
        problems.append(Problem(("referrer", "org"), f"must be empty when the source is {referrer.source.value}: they refer on their own behalf"))
    if referrer.source is ReferralSource.relative:
        if not referrer.name:
            problems.append(Problem(("referrer", "name"), "required when a relative refers"))
        if not referrer.relation:
            problems.append(Problem(("referrer", "relation"), "required when a relative refers"))
        if not (referrer.phone or referrer.email):
            problems.append(Problem(("referrer", "phone"), "a relative must give a phone number or an e-mail"))
    if referrer.wants_milestones:
        if not referrer.name:
            problems.append(Problem(("referrer", "name"), "required to hear about milestones"))
        if not (referrer.email or referrer.phone):
            problems.append(Problem(("referrer", "email"), "an e-mail or a phone is required to hear about milestones"))
    if referrer.source is ReferralSource.self_referral:
        if card.consent.given_by is not ConsentGiver.citizen:
            problems.append(Problem(("consent", "given_by"), "must be citizen on a self-referral"))
        if not (card.citizen.phone or card.citizen.email or card.citizen.address):
            problems.append(Problem(("citizen", "phone"), "a self-referral needs a phone, an e-mail or an address to reach the citizen"))
    for index in unknown_orgs(card.consent.organisations, partnership_orgs):
        problems.append(Problem(("consent", "organisations", index), f"{card.consent.organisations[index]!r} is not an organisation of this partnership"))
    if len(set(card.consent.organisations)) != len(card.consent.organisations):
        problems.append(Problem(("consent", "organisations"), "lists an organisation twice"))
    given_at = card.consent.given_at if card.consent.given_at.tzinfo else card.consent.given_at.replace(tzinfo=now.tzinfo)
    if given_at > now + timedelta(minutes=5):
        problems.append(Problem(("consent", "given_at"), "lies in the future"))
    if card.citizen.birth_year > now.year:
        problems.append(Problem(("citizen", "birth_year"), "lies in the future"))
    return problems
