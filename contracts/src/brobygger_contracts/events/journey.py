"""Events published by journey: each citizen's path, groups' life and outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import Field

from brobygger_contracts.base import Event
from brobygger_contracts.sealed import SealedEvent, SealedPart
from brobygger_contracts.types import (
    Barrier,
    InterestCode,
    Language,
    PostalCode,
    StaffId,
    TimeSlot,
    UclaScore,
)


class Wish(str, Enum):
    """What kind of community the citizen would like (they may want several)."""

    friend = "friend"
    activity = "activity"
    group = "group"
    phone_friend = "phone_friend"
    """A volunteer friend who meets by phone or video (ringvän): distance does not matter."""


class Companion(str, Enum):
    """Who accompanied the citizen to the first visit."""

    guide = "guide"
    volunteer = "volunteer"
    home_care = "home_care"
    relative = "relative"


class FollowUpKind(str, Enum):
    first_contact = "first_contact"
    """First contact is due after the referral."""
    follow_up = "follow_up"
    """Regular follow-up after the first visit."""
    exit_review = "exit_review"
    """The journey's period ends: review and measure the outcome."""
    ucla_after_start = "ucla_after_start"
    """Ask the three UCLA questions again, some months (3) after the journey started."""
    ucla_after_exit = "ucla_after_exit"
    """Ask the three UCLA questions again, some months (6) after the exit."""
    still_taking_part = "still_taking_part"
    """Some weeks after the citizen's group began to run itself: does the citizen still take part?"""


class JourneyOutcome(str, Enum):
    completed = "completed"
    dropped_out = "dropped_out"
    escalated = "escalated"
    declined = "declined"


class SelfRunningReason(str, Enum):
    meetings_without_facilitator = "meetings_without_facilitator"
    facilitator_decision = "facilitator_decision"


class GuideAssigned(Event, publisher="journey"):
    """A guide (bridge-builder) took responsibility for the citizen's journey."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    guide_id: StaffId
    """The guide's id."""
    guide_org: str
    """The organisation the guide works for."""
    assigned_at: datetime
    """When the guide was assigned."""


class JourneyStateChanged(Event, publisher="journey"):
    """The journey moved to another state (every transition of the state machine is one)."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    step: str = Field(pattern=r"^[a-z][a-z_]{1,40}$")
    """The step taken: `open`, `contact`, `clarify`, `propose`, `accept`, `decline`, `first_visit`, `attend`, `complete`, `escalate`, ..."""
    from_state: str = Field(pattern=r"^$|^[a-z][a-z_]{1,40}$")
    """The state before (empty when the journey opened)."""
    to_state: str = Field(pattern=r"^[a-z][a-z_]{1,40}$")
    """The state after."""
    changed_at: datetime
    """When the step was taken."""


class NeedsClarifiedSealed(SealedPart):
    """The sealed part of `NeedsClarified`: the citizen's wishes, barriers, area and loneliness."""

    interests: list[InterestCode] = Field(min_length=1)
    """Earlier and present interests, as canonical codes."""
    languages: list[Language] = Field(min_length=1)
    """Languages the citizen speaks."""
    postal_code: PostalCode
    """Where the citizen lives."""
    barriers: list[Barrier] = []
    """Barriers to taking part."""
    wishes: list[Wish] = Field(min_length=1)
    """A friend, an activity, a group: the citizen chooses."""
    wants_accompaniment: bool = False
    """Whether the citizen wants company to the first visits."""
    max_travel_km: float = Field(default=5.0, ge=0, le=200)
    """How far the citizen can get, given the barriers."""
    needs_step_free: bool = False
    """Whether the citizen needs step-free access."""
    availability: list[TimeSlot] = []
    """When the citizen is free."""
    baseline: UclaScore | None = None
    """Baseline loneliness on the three-item UCLA scale."""


class NeedsClarified(SealedEvent, publisher="journey", sealed_part=NeedsClarifiedSealed):
    """The guide clarified the citizen's wishes and barriers: input for matching.

    Everything about the citizen travels sealed (`NeedsClarifiedSealed`)."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    guide_id: StaffId | None = None
    """The guide who clarified."""
    clarified_at: datetime
    """When the clarification was recorded."""


class FirstVisitPlannedSealed(SealedPart):
    """The sealed part of `FirstVisitPlanned`: when the citizen will be where, and with whom."""

    visit_at: datetime
    """When the visit is to take place."""
    companion: Companion | None = None
    """Who will go along; none when the citizen goes alone."""


class FirstVisitPlanned(SealedEvent, publisher="journey", sealed_part=FirstVisitPlannedSealed):
    """The guide booked the citizen's first visit: when, and who goes along.

    Planning again (a new time) replaces the earlier plan; notify reminds the
    citizen and the companion a configurable time before `visit_at`. The time
    and the kind of companion travel sealed (`FirstVisitPlannedSealed`).
    """

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    proposal_id: UUID | None = None
    """The accepted proposal the visit belongs to."""
    companion_id: StaffId | None = None
    """The companion's id, when they are staff or a volunteer."""
    planned_at: datetime
    """When the visit was booked."""


class FirstVisitAccompanied(Event, publisher="journey"):
    """Someone went with the citizen to the first visit of an activity or a friend."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    proposal_id: UUID | None = None
    """The accepted proposal the visit belongs to."""
    companion: Companion
    """Who accompanied."""
    companion_id: StaffId | None = None
    """The companion's id, when they are staff or a volunteer."""
    hours: float = Field(ge=0, le=24)
    """Accompaniment hours drawn from the punch card."""
    visited_at: datetime
    """When the visit took place."""


class FollowUpDue(Event, publisher="journey"):
    """A durable timer fired: the guide must act."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    guide_id: StaffId | None = None
    """The guide who must act."""
    kind: FollowUpKind
    """What is due."""
    due_at: datetime
    """When it became due."""


class GroupFormed(Event, publisher="journey", subject="group_id"):
    """A new group started, with a facilitator (tovholder)."""

    group_id: UUID
    """The group's id."""
    group_proposal_id: UUID | None = None
    """The GroupProposed it came from, if any."""
    interest: InterestCode
    """What the group does together."""
    postal_code: PostalCode
    """Where it meets."""
    facilitator_id: StaffId
    """The facilitator until the group runs itself."""
    member_citizen_ids: list[UUID] = []
    """Citizens taking part."""
    formed_at: datetime
    """When the group formed."""


class GroupBecameSelfRunning(Event, publisher="journey", subject="group_id"):
    """The group runs itself (selvkørende); its facilitator is released."""

    group_id: UUID
    """The group's id."""
    facilitator_id: StaffId
    """The facilitator released."""
    reason: SelfRunningReason
    """Why it is considered self-running."""
    meetings_held: int = Field(ge=0)
    """Meetings logged up to now."""
    became_self_running_at: datetime
    """When."""


class JourneyCompletedSealed(SealedPart):
    """The sealed part of `JourneyCompleted`: loneliness before and after, and the family."""

    baseline: UclaScore | None = None
    """Loneliness at clarification."""
    final: UclaScore | None = None
    """Loneliness at exit."""
    relatives_involved: bool = False
    """Whether relatives were involved along the way."""


class JourneyCompleted(SealedEvent, publisher="journey", sealed_part=JourneyCompletedSealed):
    """The journey ended (exit, udslusning), with its outcome.

    The loneliness scores and whether relatives took part travel sealed (`JourneyCompletedSealed`)."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    outcome: JourneyOutcome
    """How it ended."""
    days_in_journey: int = Field(ge=0)
    """Days from referral to exit."""
    completed_at: datetime
    """When the journey ended."""


class FollowUpOutcome(str, Enum):
    """What the guide learnt at a follow-up."""

    still_going = "still_going"
    """The citizen still takes part."""
    paused = "paused"
    """A break (illness, holiday); expected back."""
    stopped = "stopped"
    """The citizen stopped going (with a reason)."""
    needs_new_proposal = "needs_new_proposal"
    """It did not work out: matching is asked for a new proposal."""


class StopReason(str, Enum):
    """Why a citizen stopped going, as a code (never free text)."""

    health = "health"
    moved = "moved"
    did_not_click = "did_not_click"
    transport = "transport"
    cost = "cost"
    activity_ended = "activity_ended"
    found_own_community = "found_own_community"
    other = "other"


class FollowUpRecordedSealed(SealedPart):
    """The sealed part of `FollowUpRecorded`: why the citizen stopped (a reason may be their health)."""

    reason: StopReason | None = None
    """Why, for `stopped` (and optionally for `needs_new_proposal`)."""


class FollowUpRecorded(SealedEvent, publisher="journey", sealed_part=FollowUpRecordedSealed):
    """The guide recorded the outcome of a follow-up: still going, paused, stopped or needs a new proposal.

    `needs_new_proposal` is followed by a `NeedsClarified` from the kept clarification (matching proposes
    again, as after a fall-through). The stop reason travels sealed (`FollowUpRecordedSealed`)."""

    journey_id: UUID
    """The journey's id."""
    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    guide_id: StaffId | None = None
    """The citizen's guide."""
    outcome: FollowUpOutcome
    """What the follow-up found."""
    proposal_id: UUID | None = None
    """The accepted proposal (activity, friend) the outcome is about, when the guide named one."""
    recorded_at: datetime
    """When the follow-up took place."""


class ParticipationEndReason(str, Enum):
    left = "left"
    """The member left the group (told the guide or the facilitator)."""
    stopped_attending = "stopped_attending"
    """No attendance at the group's last `STOPPED_ATTENDING_AFTER_MEETINGS` recorded meetings."""
    journey_ended = "journey_ended"
    """The citizen's journey ended (exit)."""


class ParticipationEnded(Event, publisher="journey"):
    """A citizen no longer takes part in a group: their place is free for a newcomer (issue 15)."""

    citizen_id: UUID
    """Pseudonymous id of the citizen."""
    group_id: UUID
    """The group they took part in."""
    group_proposal_id: UUID | None = None
    """The matching proposal the group came from, when it came from one."""
    reason: ParticipationEndReason
    """Why it ended, as a code."""
    ended_at: datetime
    """When it ended."""
