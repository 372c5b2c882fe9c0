"""Events published by the referral service, the owner of citizens' personal data."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import Field

from brobygger_contracts.base import Event
from brobygger_contracts.sealed import SealedEvent, SealedPart
from brobygger_contracts.types import Language, OrgId, PostalCode, StaffId


class ReferralSource(str, Enum):
    """Who referred the citizen."""

    home_care = "home_care"
    nurse = "nurse"
    therapist = "therapist"
    dementia_consultant = "dementia_consultant"
    gp = "gp"
    hospital = "hospital"
    municipal_staff = "municipal_staff"
    relative = "relative"
    self_referral = "self"
    outreach = "outreach"


class Urgency(str, Enum):
    routine = "routine"
    soon = "soon"
    urgent = "urgent"


class TriageDecision(str, Enum):
    bridge = "bridge"
    """Volunteers and communities can help: the journey continues."""
    professional = "professional"
    """The situation needs professionals: escalated, the volunteer journey stops."""
    declined = "declined"
    """The citizen said no."""


class EscalationReason(str, Enum):
    physical_health = "physical_health"
    mental_health = "mental_health"
    dementia = "dementia"
    addiction = "addiction"
    social_services = "social_services"
    safeguarding = "safeguarding"
    other = "other"


class ReferralReceivedSealed(SealedPart):
    """The sealed part of `ReferralReceived`: who referred and who the citizen is, roughly."""

    source: ReferralSource
    """Who referred."""
    referrer_org: OrgId | None = None
    """The referring organisation; empty for relatives and self-referrals."""
    urgency: Urgency = Urgency.routine
    """How soon the referrer thinks first contact should happen."""
    postal_code: PostalCode
    """The citizen's postal code: the area used for distance and gap reports."""
    age_band: str = Field(pattern=r"^[0-9]{2}-[0-9]{2}$|^[0-9]{2}\+$|^unknown$")
    """Age band such as `65-74` or `85+`, never the birth date."""
    language: Language = "da"
    """The citizen's preferred language."""
    lives_alone: bool | None = None
    """Whether the citizen lives alone, when known."""


class ReferralReceived(SealedEvent, publisher="referral", sealed_part=ReferralReceivedSealed):
    """A referral card was accepted. The first event of every citizen's journey.

    Carries only what other services need to act; the citizen's name, contact
    details and the referrer's own words stay in the referral service. The
    referral source, urgency, postal code, age band, language and living
    situation travel sealed (`ReferralReceivedSealed`).
    """

    referral_id: UUID
    """The referral card's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen, stable across repeated referrals."""
    consented_orgs: list[OrgId] = Field(min_length=1)
    """Organisations the citizen consented may receive their data (in clear: who may ask for the key)."""
    repeat_referral: bool = False
    """True when the citizen was already known: merged into the existing journey."""
    referrer_follows: bool = False
    """The referring person asked to hear at each milestone; notify asks referral for their
    contact details (`GET /referrals/{referral_id}/referrer-contact`) when it sends."""
    received_at: datetime
    """When the card was accepted."""


class ReferralTriaged(Event, publisher="referral"):
    """A guide decided whether volunteers and communities can help."""

    referral_id: UUID
    """The referral card triaged."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    decision: TriageDecision
    """The triage outcome."""
    triaged_by: StaffId
    """The guide or staff member who triaged."""
    triaged_at: datetime
    """When the decision was recorded."""


class ReferralEscalatedSealed(SealedPart):
    """The sealed part of `ReferralEscalated`: why, and who takes over."""

    reason: EscalationReason
    """Why professionals are needed, as a code."""
    receiving_unit: str = Field(min_length=1, max_length=120)
    """The professional unit that takes over, e.g. `varde-psykiatri`."""


class ReferralEscalated(SealedEvent, publisher="referral", sealed_part=ReferralEscalatedSealed):
    """The citizen needs professional help; the volunteer journey stops here.

    The reason and the receiving unit travel sealed (`ReferralEscalatedSealed`)."""

    referral_id: UUID
    """The referral card escalated."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    escalated_at: datetime
    """When it was escalated."""


class ConsentChanged(Event, publisher="referral"):
    """The set of organisations that may receive the citizen's data changed."""

    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    consented_orgs: list[OrgId]
    """The organisations consented now (may be empty: consent withdrawn)."""
    added: list[OrgId] = []
    """Organisations added by this change."""
    removed: list[OrgId] = []
    """Organisations removed by this change: they must forget the citizen."""
    changed_at: datetime
    """When the change was recorded."""


class CitizenErased(Event, publisher="referral"):
    """The citizen asked to be forgotten: every service erases what it holds."""

    citizen_id: UUID
    """Pseudonymous id of the erased citizen."""
    erased_at: datetime
    """When the personal data was erased at the owner."""
