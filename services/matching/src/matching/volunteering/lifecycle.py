"""A volunteer's way from application to being proposed, as pure rules over their recorded steps.

Only a volunteer who is approved (at an interview, or registered directly by a coordinator),
vetted (a criminal-record extract seen and not expired), has signed the confidentiality
agreement, has completed the courses their role requires (not expired) and is not paused
today is *ready* for that role; only ready volunteers are proposed. Dates are calendar days
(the organisation's records are kept by the day); "expires on" is the first day a vetting or
course no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Iterable, Mapping
from uuid import UUID


class VolunteerRole(str, Enum):
    volunteer_friend = "volunteer_friend"
    """Meets the citizen in person (vänvolontär): within reach."""
    phone_friend = "phone_friend"
    """Meets by phone or video (ringvän): distance does not apply."""


class InterviewOutcome(str, Enum):
    approved = "approved"
    rejected = "rejected"


class VettingKind(str, Enum):
    criminal_record_extract = "criminal_record_extract"
    """Denmark: straffeattest or børneattest."""
    belastningsregister = "belastningsregister"
    """Sweden: an extract from the belastningsregister."""


class PauseReason(str, Enum):
    holiday = "holiday"
    illness = "illness"
    other = "other"


class SupervisionKind(str, Enum):
    group = "group"
    individual = "individual"


class Status(str, Enum):
    applied = "applied"
    """Applied, not interviewed yet."""
    interviewed = "interviewed"
    """Approved (interview or direct registration), not ready for any role yet: see the blockers."""
    rejected = "rejected"
    """The latest interview's outcome was rejected."""
    ready = "ready"
    """Approved and ready for at least one role: proposed."""
    paused = "paused"
    """Today falls within a pause (holiday, illness)."""
    retired = "retired"


class Blocker(str, Enum):
    """Why a volunteer is not proposed in a role."""

    retired = "retired"
    role_not_held = "role_not_held"
    interview_missing = "interview_missing"
    interview_rejected = "interview_rejected"
    vetting_missing = "vetting_missing"
    vetting_expired = "vetting_expired"
    confidentiality_missing = "confidentiality_missing"
    training_missing = "training_missing"
    training_expired = "training_expired"
    paused = "paused"


DEFAULT_REQUIRED_COURSES: Mapping[VolunteerRole, tuple[str, ...]] = {
    VolunteerRole.volunteer_friend: ("friend_basics",),
    VolunteerRole.phone_friend: ("friend_basics",),
}


@dataclass(frozen=True)
class LifecycleRules:
    vetting_valid_months: int = 24
    required_courses: Mapping[VolunteerRole, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_REQUIRED_COURSES))
    supervision_max_days: int = 90

    def courses_for(self, role: VolunteerRole) -> tuple[str, ...]:
        return tuple(self.required_courses.get(role, ()))

    def courses_for_roles(self, roles: Iterable[VolunteerRole]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(course for role in sorted(roles) for course in self.courses_for(role)))


@dataclass(frozen=True)
class Interview:
    held_on: date
    outcome: InterviewOutcome


@dataclass(frozen=True)
class Vetting:
    """That an extract was seen, of which kind, when, and until when it counts; never the document."""

    kind: VettingKind
    seen_on: date
    expires_on: date


@dataclass(frozen=True)
class Training:
    course: str
    completed_on: date
    expires_on: date | None = None


@dataclass(frozen=True)
class Pause:
    starts_on: date
    ends_on: date | None
    """The last day of the pause (inclusive); None while open-ended."""
    reason: PauseReason

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class VolunteerRecord:
    """Everything recorded about one volunteer's lifecycle, as of the last step."""

    volunteer_id: UUID
    roles: frozenset[VolunteerRole] = frozenset({VolunteerRole.volunteer_friend})
    applied_on: date | None = None
    registered_on: date | None = None
    """Registered directly by a coordinator (`POST /volunteers`): counts as approved that day."""
    interviews: tuple[Interview, ...] = ()
    vettings: tuple[Vetting, ...] = ()
    confidentiality_signed_on: date | None = None
    trainings: tuple[Training, ...] = ()
    pauses: tuple[Pause, ...] = ()
    supervised_on: tuple[date, ...] = ()
    """The days of the supervision sessions the volunteer attended."""
    retired_on: date | None = None


def approved_on(record: VolunteerRecord) -> date | None:
    """The day the volunteer was approved, by their latest interview or a direct registration; None when
    the latest decision was a rejection or nobody decided yet."""
    decisions = [(i.held_on, i.outcome is InterviewOutcome.approved) for i in record.interviews]
    if record.registered_on is not None:
        decisions.append((record.registered_on, True))
    if not decisions:
        return None
    day, approved = max(decisions)
    return day if approved else None


def rejected(record: VolunteerRecord) -> bool:
    return approved_on(record) is None and bool(record.interviews)


def current_vetting(record: VolunteerRecord) -> Vetting | None:
    """The vetting that counts longest (the latest renewal), expired or not; None when none was recorded."""
    return max(record.vettings, key=lambda v: (v.expires_on, v.seen_on), default=None)


def vetted(record: VolunteerRecord, today: date) -> bool:
    return any(v.seen_on <= today < v.expires_on for v in record.vettings)


def course_valid(record: VolunteerRecord, course: str, today: date) -> bool:
    return any(t.course == course and t.completed_on <= today and (t.expires_on is None or today < t.expires_on)
               for t in record.trainings)


def missing_courses(record: VolunteerRecord, role: VolunteerRole, today: date, rules: LifecycleRules) -> list[str]:
    """The role's required courses not completed, or no longer valid, today."""
    return [c for c in rules.courses_for(role) if not course_valid(record, c, today)]


def paused(record: VolunteerRecord, today: date) -> bool:
    return any(p.covers(today) for p in record.pauses)


def resumed(pauses: Iterable[Pause], on: date) -> tuple[Pause, ...]:
    """The pauses after the volunteer resumed `on`: every pause not over before that day ends the day before
    (a pause planned for later is thereby cancelled: it ends before it starts)."""
    last = on - timedelta(days=1)
    return tuple(p if p.ends_on is not None and p.ends_on < on else Pause(p.starts_on, last, p.reason) for p in pauses)


def blockers(record: VolunteerRecord, role: VolunteerRole, today: date, rules: LifecycleRules) -> list[Blocker]:
    """Why the volunteer is not proposed in `role` today; empty when they are ready for it."""
    found = []
    if record.retired_on is not None:
        found.append(Blocker.retired)
    if role not in record.roles:
        found.append(Blocker.role_not_held)
    if approved_on(record) is None:
        found.append(Blocker.interview_rejected if rejected(record) else Blocker.interview_missing)
    if not record.vettings:
        found.append(Blocker.vetting_missing)
    elif not vetted(record, today):
        found.append(Blocker.vetting_expired)
    if record.confidentiality_signed_on is None:
        found.append(Blocker.confidentiality_missing)
    missing = missing_courses(record, role, today, rules)
    if any(not any(t.course == c for t in record.trainings) for c in missing):
        found.append(Blocker.training_missing)
    elif missing:
        found.append(Blocker.training_expired)
    if paused(record, today):
        found.append(Blocker.paused)
    return found


def ready_roles(record: VolunteerRecord, today: date, rules: LifecycleRules) -> frozenset[VolunteerRole]:
    """The roles the volunteer may be proposed in today: the one rule ranking and batch assignment apply."""
    return frozenset(role for role in record.roles if not blockers(record, role, today, rules))


def status(record: VolunteerRecord, today: date, rules: LifecycleRules) -> Status:
    if record.retired_on is not None:
        return Status.retired
    if paused(record, today):
        return Status.paused
    if rejected(record):
        return Status.rejected
    if approved_on(record) is None:
        return Status.applied
    return Status.ready if ready_roles(record, today, rules) else Status.interviewed


def blockers_by_role(record: VolunteerRecord, today: date, rules: LifecycleRules) -> dict[VolunteerRole, list[Blocker]]:
    return {role: blockers(record, role, today, rules) for role in sorted(record.roles)}


def supervision_overdue(record: VolunteerRecord, today: date, rules: LifecycleRules) -> bool:
    """Approved at least SUPERVISION_MAX_DAYS ago and no supervision attended in the last SUPERVISION_MAX_DAYS:
    the coordinator should see to it. Not for retired volunteers or those not approved."""
    approved = approved_on(record)
    if record.retired_on is not None or approved is None:
        return False
    since = today - timedelta(days=rules.supervision_max_days)
    if approved > since:
        return False  # still within the first period after approval
    return not any(since < day <= today for day in record.supervised_on)


def last_supervised(record: VolunteerRecord) -> date | None:
    return max(record.supervised_on, default=None)


@dataclass(frozen=True)
class Expiry:
    """A vetting or a course that stops counting soon."""

    volunteer_id: UUID
    what: str
    """`vetting` or `training`."""
    code: str
    """The vetting's kind or the course's code."""
    expires_on: date


def expiring(record: VolunteerRecord, today: date, within_days: int) -> list[Expiry]:
    """The current vetting and the latest completion of each course when they stop counting within `within_days`
    (renewed ones are not listed: the renewal counts longer)."""
    horizon = today + timedelta(days=within_days)
    found = []
    vetting = current_vetting(record)
    if vetting is not None and today <= vetting.expires_on <= horizon:
        found.append(Expiry(record.volunteer_id, "vetting", vetting.kind.value, vetting.expires_on))
    latest: dict[str, Training] = {}
    for t in record.trainings:
        known = latest.get(t.course)
        if known is None or _lasts_longer(t, known):
            latest[t.course] = t
    for course, t in sorted(latest.items()):
        if t.expires_on is not None and today <= t.expires_on <= horizon:
            found.append(Expiry(record.volunteer_id, "training", course, t.expires_on))
    return found


def _lasts_longer(a: Training, b: Training) -> bool:
    if a.expires_on is None or b.expires_on is None:
        return a.expires_on is None and (b.expires_on is not None or a.completed_on > b.completed_on)
    return a.expires_on > b.expires_on
