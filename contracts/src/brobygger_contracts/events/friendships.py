"""Events published by matching about volunteer friendships: the volunteer's own yes (two-sided consent),
the pair's agreement, the check-in after the first month and the end of a friendship.

Subject of each is the citizen (their events stay in order, and the sealed parts are under the citizen's key).
Nothing here names the citizen or says where they live beyond the postal district."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import Field

from brobygger_contracts.base import Event
from brobygger_contracts.sealed import SealedEvent, SealedPart
from brobygger_contracts.types import InterestCode, Language, OrgId, PostalCode, TimeSlot


class MeetingChannel(str, Enum):
    """How the friends meet."""

    in_person = "in_person"
    phone = "phone"
    video = "video"


class Rhythm(str, Enum):
    """How often the friends agreed to meet."""

    weekly = "weekly"
    fortnightly = "fortnightly"
    monthly = "monthly"


class FriendshipSide(str, Enum):
    """Which side of the friendship: the citizen (through their guide) or the volunteer."""

    citizen = "citizen"
    volunteer = "volunteer"


class FriendshipEndReason(str, Enum):
    """Why a friendship ended, as a code."""

    moved = "moved"
    not_a_match = "not_a_match"
    no_time = "no_time"
    health = "health"
    citizen_died = "citizen_died"
    other = "other"


class VolunteerAskedSealed(SealedPart):
    """What the volunteer needs to decide, and nothing more: never the citizen's name, address or story."""

    postal_code: PostalCode | None = None
    """The citizen's postal district."""
    age_band: str | None = Field(default=None, max_length=8)
    """The citizen's age band, e.g. `80-89`."""
    languages: list[Language] = []
    """Languages the two have in common."""
    shared_interests: list[InterestCode] = []
    """Interests the two share (codes)."""
    shared_times: list[TimeSlot] = []
    """Times both are free."""
    distance_km: int | None = Field(default=None, ge=0)
    """Whole kilometres between the centroids of the two postal areas; empty when unknown."""
    channel: MeetingChannel = MeetingChannel.in_person
    """How they would meet."""


class VolunteerAsked(SealedEvent, publisher="matching", sealed_part=VolunteerAskedSealed):
    """The citizen said yes to a volunteer friend; now the volunteer is asked (two-sided consent).

    Only the volunteer's yes (`MatchAccepted`) makes the match; a no or no answer by `answer_due` is a
    `MatchDeclined` (`volunteer_declined`, `volunteer_no_answer`)."""

    proposal_id: UUID
    """The proposal the citizen accepted."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    volunteer_id: UUID
    """The volunteer who is asked."""
    org: OrgId
    """The organisation of the volunteer (whose matching instance asks)."""
    asked_at: datetime
    """When the volunteer was asked."""
    answer_due: datetime
    """The volunteer's answer is awaited until then (`VOLUNTEER_ANSWER_HOURS`)."""


class FriendshipAgreedSealed(SealedPart):
    """The sealed part of `FriendshipAgreed`: where they meet (a place is personal)."""

    place: str | None = Field(default=None, max_length=200)
    """Where they meet, in the words of whoever recorded it; empty for phone and video."""


class FriendshipAgreed(SealedEvent, publisher="matching", sealed_part=FriendshipAgreedSealed):
    """The friends agreed how often and how they meet (recorded by the citizen's guide or a coordinator)."""

    friendship_id: UUID
    """The friendship's id."""
    proposal_id: UUID
    """The accepted proposal the friendship came from."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    volunteer_id: UUID
    """The volunteer friend."""
    rhythm: Rhythm
    """How often they meet."""
    channel: MeetingChannel
    """How they meet."""
    agreed_at: datetime
    """When the agreement was recorded."""


class FriendshipCheckInDue(Event, publisher="matching"):
    """The friendship's first month has passed (`FRIENDSHIP_CHECK_IN_DAYS`): ask both sides how it goes.
    Published once per friendship."""

    friendship_id: UUID
    """The friendship's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen (their guide is asked on the citizen's side)."""
    volunteer_id: UUID
    """The volunteer friend, asked on their side."""
    started_at: datetime
    """When the friendship began (the volunteer's yes)."""
    due_at: datetime
    """When the check-in became due."""


class FriendshipEnded(Event, publisher="matching"):
    """One side ended the friendship; the volunteer stays active and their place is free again.
    The citizen's journey hears of it so the guide can follow up or ask for someone else."""

    friendship_id: UUID
    """The friendship's id."""
    proposal_id: UUID
    """The accepted proposal the friendship came from (now `ended`)."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    volunteer_id: UUID
    """The volunteer friend."""
    side: FriendshipSide
    """Who ended it."""
    reason: FriendshipEndReason
    """Why, as a code."""
    started_at: datetime
    """When the friendship began."""
    ended_at: datetime
    """When it ended."""
