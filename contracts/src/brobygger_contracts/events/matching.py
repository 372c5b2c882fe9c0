"""Events published by matching: registries of volunteers and activities, and proposals."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import Field

from brobygger_contracts.base import Event, WireModel
from brobygger_contracts.sealed import SealedEvent, SealedPart
from brobygger_contracts.types import InterestCode, Language, OrgId, PostalCode, TimeSlot


class ProposalKind(str, Enum):
    volunteer_friend = "volunteer_friend"
    """One-to-one befriending by a trained volunteer."""
    activity = "activity"
    """An existing activity or group."""


class DeclineReason(str, Enum):
    not_interested = "not_interested"
    too_far = "too_far"
    wrong_time = "wrong_time"
    did_not_click = "did_not_click"
    health = "health"
    candidate_unavailable = "candidate_unavailable"
    other = "other"
    volunteer_declined = "volunteer_declined"
    """The citizen said yes, the volunteer said no (two-sided consent)."""
    volunteer_no_answer = "volunteer_no_answer"
    """The citizen said yes, the volunteer did not answer in time (`VOLUNTEER_ANSWER_HOURS`)."""
    chose_another = "chose_another"
    """The citizen accepted another of the options shown with this one (added in issue 15)."""


class TransportNeed(str, Enum):
    """How a citizen with a transport barrier gets to an activity; the guide arranges it."""

    volunteer_driver = "volunteer_driver"
    """A volunteer drives the citizen door to door (mobility)."""
    flex_transport = "flex_transport"
    """The municipality's flex transport (Flextur), for longer or unknown distances."""
    accompanied_bus_ride = "accompanied_bus_ride"
    """Someone rides the bus with the citizen the first times."""


class MatchReason(WireModel):
    """One reason a candidate fits, as a code with parameters; whoever shows it renders it in the reader's
    language (`brobygger_contracts.reason_texts`)."""

    code: str = Field(pattern=r"^[a-z][a-z_]{1,40}$")
    """E.g. `both_enjoy`, `km`, `free`, `subsidised`, `hearing_loop`, `transport`."""
    params: dict[str, int | str | list[str]] = {}
    """Codes and numbers only: `interests` and `languages` (codes), `slots` (`tue morning`), `km`, `dkk`,
    `postal_code`, `age_band`, `gender`, `need` (a `TransportNeed`)."""


class VolunteerRegistered(Event, publisher="matching", subject="volunteer_id"):
    """A volunteer friend was registered or their profile updated, or they stopped (`active` false).

    Only that a volunteer exists, for whom and how many friends they can take:
    their interests, languages, home area and free times stay in the registry
    of the matching instance that holds them (no other service needs them, and
    there is no key to seal a volunteer's traits under).
    """

    volunteer_id: UUID
    """The volunteer's pseudonymous id."""
    org: OrgId
    """The organisation that trains and supervises the volunteer."""
    capacity: int = Field(ge=0, le=20)
    """How many friends the volunteer can take."""
    trained: bool
    """Whether the volunteer has completed training; only trained volunteers are proposed."""
    registered_at: datetime
    """When this profile version was recorded."""
    active: bool = True
    """False once the volunteer stopped (retired): they are proposed to nobody any more; registering them again brings them back."""


class ActivityPublished(Event, publisher="matching", subject="activity_id"):
    """An activity or group was published in the catalogue, or updated."""

    activity_id: UUID
    """The activity's id."""
    org: OrgId
    """The organisation that owns the activity."""
    name: str = Field(min_length=1, max_length=200)
    """Public name of the activity, e.g. `Gåfællesskab Varde`."""
    interests: list[InterestCode]
    """Interests the activity serves."""
    postal_code: PostalCode
    """Where it meets."""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    """Meeting place latitude, when known."""
    longitude: float | None = Field(default=None, ge=-180, le=180)
    """Meeting place longitude, when known."""
    schedule: list[TimeSlot] = []
    """When it meets."""
    seats: int | None = Field(default=None, ge=0)
    """Seats left; empty when there is no limit."""
    step_free: bool = False
    """Step-free access."""
    accompaniment_welcome: bool = True
    """Whether a companion may come along to the first visits."""
    practice_community: bool = False
    """A low-threshold practice community (øvefællesskab): a stepping stone."""
    languages: list[Language] | None = None
    """Languages spoken at the activity; empty when not stated (then no constraint)."""
    interpreter_available: bool | None = None
    """An interpreter can be arranged, so a citizen who speaks none of `languages` may still come."""
    hearing_loop: bool | None = None
    """A hearing loop (teleslynge) in the meeting room."""
    cost_dkk: float | None = Field(default=None, ge=0)
    """The price of taking part, in kroner; 0 or empty is free."""
    reduced_cost_dkk: float | None = Field(default=None, ge=0)
    """A subsidised price for those who cannot pay the full one (0: subsidised in full); empty when there is none."""
    published_at: datetime
    """When this version was published."""


class MatchProposedSealed(SealedPart):
    """The sealed part of `MatchProposed`: why this candidate (the reasons name the candidate's traits)."""

    candidate_name: str | None = Field(default=None, max_length=200)
    """The activity's public name (never a volunteer's name)."""
    reasons: list[str] = Field(min_length=1)
    """Human-readable reasons, e.g. `both enjoy baking`, `1 km away`."""
    distance_km: int | None = Field(default=None, ge=0)
    """Whole kilometres between the centroids of the citizen's and the candidate's postal areas."""
    reason_codes: list[MatchReason] | None = None
    """The reasons as codes with parameters, to render in the reader's language (`reasons` is the proposing
    instance's language, kept for readers written before)."""
    transport_need: TransportNeed | None = None
    """What the guide must arrange for the citizen to get there; empty when nothing (or a volunteer friend)."""
    cost_dkk: int | None = Field(default=None, ge=0)
    """What the citizen pays, whole kroner (the subsidised price for a citizen with a money barrier); empty when not stated."""
    estimated_wait_days: int | None = Field(default=None, ge=0)
    """How long a citizen of this area waiting for this interest waits today for a seat or slot, in days
    (matching's `domain/waiting.py`: the queue ahead over the rate seats free up); empty when it cannot be told."""


class MatchProposed(SealedEvent, publisher="matching", sealed_part=MatchProposedSealed):
    """Matching proposes a volunteer friend or an activity; the citizen chooses.

    The candidate's name, the reasons and the distance travel sealed (`MatchProposedSealed`)."""

    proposal_id: UUID
    """The proposal's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    kind: ProposalKind
    """A volunteer friend or an activity."""
    candidate_id: UUID
    """The volunteer's or the activity's id."""
    proposing_org: OrgId
    """The organisation whose matching instance made the proposal."""
    score: float = Field(ge=0, le=1)
    """Match quality, 0 to 1."""
    rank: int = Field(default=1, ge=1)
    """1 for the best candidate, 2 for the next, ..."""
    proposed_at: datetime
    """When it was proposed."""
    choice_id: UUID | None = None
    """The options shown together (up to three of one kind, ranks 1..3) share this id: the citizen picks any
    one, and accepting it withdraws the others (`MatchDeclined`, `chose_another`). Empty before issue 15."""


class MatchAccepted(Event, publisher="matching"):
    """The citizen accepted a proposal; the candidate's capacity is reserved."""

    proposal_id: UUID
    """The accepted proposal."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    kind: ProposalKind
    """A volunteer friend or an activity."""
    candidate_id: UUID
    """The volunteer's or the activity's id."""
    accepted_at: datetime
    """When it was accepted."""


class MatchDeclinedSealed(SealedPart):
    """The sealed part of `MatchDeclined`: why (a reason may be the citizen's health)."""

    reason: DeclineReason
    """Why, as a code."""


class MatchDeclined(SealedEvent, publisher="matching", sealed_part=MatchDeclinedSealed):
    """The citizen (or candidate) declined; the candidate is not proposed to them again.

    The reason travels sealed (`MatchDeclinedSealed`)."""

    proposal_id: UUID
    """The declined proposal."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    kind: ProposalKind
    """A volunteer friend or an activity."""
    candidate_id: UUID
    """The volunteer's or the activity's id."""
    declined_at: datetime
    """When it was declined."""


class GroupProposed(Event, publisher="matching", subject="group_proposal_id"):
    """Several nearby citizens want the same thing and no activity serves them: start a group."""

    group_proposal_id: UUID
    """The proposal's id."""
    interest: InterestCode
    """The shared interest."""
    postal_code: PostalCode
    """The area the citizens live in."""
    citizen_ids: list[UUID] = Field(min_length=2, max_length=5)
    """The waiting citizens (2 to 5)."""
    proposing_org: OrgId
    """The organisation whose matching instance made the proposal."""
    proposed_at: datetime
    """When it was proposed."""
    proposal_version: int = Field(default=1, ge=1)
    """1 when first proposed; each time the group grows (a newcomer joins, before or after it formed) it is
    proposed again under the same `group_proposal_id` with the next version and all its members."""
    group_id: UUID | None = None
    """The formed group (`GroupFormed.group_id`) when a group that already meets grows; empty before it formed."""
