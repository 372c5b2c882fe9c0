"""Unit tests of the volunteer lifecycle's pure rules (who is ready to be proposed) and of the phone-friend
channel rule in scoring (distance does not apply by phone)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from matching.domain.geo import Point
from matching.domain.model import Candidate, CitizenProfile, Kind, Wish
from matching.domain.scoring import Exclusion, assess, rank
from matching.volunteering.lifecycle import (
    Blocker, Interview, InterviewOutcome, LifecycleRules, Pause, PauseReason, Status, Training, Vetting, VettingKind,
    VolunteerRecord, VolunteerRole, blockers, expiring, ready_roles, resumed, status, supervision_overdue,
)
from matching.volunteering.report import summarise

TODAY = date(2026, 11, 26)
RULES = LifecycleRules()
FRIEND, PHONE = VolunteerRole.volunteer_friend, VolunteerRole.phone_friend


def ready(**kw) -> VolunteerRecord:  # noqa: ANN003
    """A volunteer who went through every step: approved, vetted, signed, trained."""
    values = dict(
        volunteer_id=uuid.uuid4(), roles=frozenset({FRIEND}), applied_on=TODAY - timedelta(days=60),
        interviews=(Interview(TODAY - timedelta(days=50), InterviewOutcome.approved),),
        vettings=(Vetting(VettingKind.criminal_record_extract, TODAY - timedelta(days=40), TODAY + timedelta(days=600)),),
        confidentiality_signed_on=TODAY - timedelta(days=40),
        trainings=(Training("friend_basics", TODAY - timedelta(days=30)),),
        supervised_on=(TODAY - timedelta(days=10),),
    )
    values.update(kw)
    return VolunteerRecord(**values)


def test_a_volunteer_through_every_step_is_ready_for_their_role() -> None:
    record = ready()
    assert blockers(record, FRIEND, TODAY, RULES) == []
    assert ready_roles(record, TODAY, RULES) == {FRIEND}
    assert status(record, TODAY, RULES) is Status.ready
    assert blockers(record, PHONE, TODAY, RULES) == [Blocker.role_not_held]


@pytest.mark.parametrize(("change", "blocker"), [
    (dict(interviews=()), Blocker.interview_missing),
    (dict(interviews=(Interview(TODAY, InterviewOutcome.rejected),)), Blocker.interview_rejected),
    (dict(vettings=()), Blocker.vetting_missing),
    (dict(vettings=(Vetting(VettingKind.belastningsregister, date(2024, 1, 1), TODAY),)), Blocker.vetting_expired),
    (dict(confidentiality_signed_on=None), Blocker.confidentiality_missing),
    (dict(trainings=()), Blocker.training_missing),
    (dict(trainings=(Training("first_aid", TODAY - timedelta(days=3)),)), Blocker.training_missing),
    (dict(trainings=(Training("friend_basics", date(2024, 1, 1), TODAY - timedelta(days=1)),)), Blocker.training_expired),
    (dict(pauses=(Pause(TODAY - timedelta(days=2), None, PauseReason.illness),)), Blocker.paused),
    (dict(retired_on=TODAY), Blocker.retired),
])
def test_each_missing_step_blocks_the_volunteer(change: dict, blocker: Blocker) -> None:
    record = ready(**change)
    assert blockers(record, FRIEND, TODAY, RULES) == [blocker]
    assert ready_roles(record, TODAY, RULES) == frozenset()


def test_vetting_counts_until_its_expiry_and_a_renewal_counts_again() -> None:
    expires = TODAY + timedelta(days=1)
    record = ready(vettings=(Vetting(VettingKind.criminal_record_extract, date(2024, 11, 27), expires),))
    assert ready_roles(record, TODAY, RULES) == {FRIEND}
    assert blockers(record, FRIEND, expires, RULES) == [Blocker.vetting_expired]  # the expiry day no longer counts
    renewed = ready(vettings=record.vettings + (Vetting(VettingKind.criminal_record_extract, TODAY, date(2028, 11, 26)),))
    assert ready_roles(renewed, expires, RULES) == {FRIEND}


def test_a_pause_blocks_only_within_its_days_and_resuming_ends_it() -> None:
    holiday = Pause(TODAY + timedelta(days=5), TODAY + timedelta(days=12), PauseReason.holiday)
    record = ready(pauses=(holiday,))
    assert status(record, TODAY, RULES) is Status.ready
    assert status(record, TODAY + timedelta(days=5), RULES) is Status.paused
    assert status(record, TODAY + timedelta(days=13), RULES) is Status.ready
    ill = Pause(TODAY - timedelta(days=3), None, PauseReason.illness)
    back = ready(pauses=resumed((ill, holiday), TODAY))
    assert status(back, TODAY, RULES) is Status.ready
    assert status(back, TODAY + timedelta(days=6), RULES) is Status.ready  # the planned holiday was cancelled too
    assert back.pauses[0].ends_on == TODAY - timedelta(days=1)


def test_a_role_requires_its_own_courses() -> None:
    rules = LifecycleRules(required_courses={FRIEND: ("friend_basics",), PHONE: ("friend_basics", "phone_calls")})
    record = ready(roles=frozenset({FRIEND, PHONE}))
    assert ready_roles(record, TODAY, rules) == {FRIEND}
    assert blockers(record, PHONE, TODAY, rules) == [Blocker.training_missing]
    both = ready(roles=frozenset({FRIEND, PHONE}), trainings=record.trainings + (Training("phone_calls", TODAY),))
    assert ready_roles(both, TODAY, rules) == {FRIEND, PHONE}


def test_statuses_from_application_to_retirement() -> None:
    applied = VolunteerRecord(uuid.uuid4(), applied_on=TODAY)
    assert status(applied, TODAY, RULES) is Status.applied
    interviewed = VolunteerRecord(applied.volunteer_id, applied_on=TODAY,
                                  interviews=(Interview(TODAY, InterviewOutcome.approved),))
    assert status(interviewed, TODAY, RULES) is Status.interviewed
    assert blockers(interviewed, FRIEND, TODAY, RULES) == [
        Blocker.vetting_missing, Blocker.confidentiality_missing, Blocker.training_missing]
    registered = VolunteerRecord(uuid.uuid4(), registered_on=TODAY)  # a coordinator's direct registration approves
    assert status(registered, TODAY, RULES) is Status.interviewed
    assert status(ready(retired_on=TODAY, pauses=(Pause(TODAY, None, PauseReason.other),)), TODAY, RULES) is Status.retired


def test_supervision_is_overdue_after_the_period_without_a_session() -> None:
    rules = LifecycleRules(supervision_max_days=90)
    approved = TODAY - timedelta(days=200)
    record = ready(interviews=(Interview(approved, InterviewOutcome.approved),), supervised_on=(TODAY - timedelta(days=91),))
    assert supervision_overdue(record, TODAY, rules)
    assert not supervision_overdue(ready(interviews=record.interviews, supervised_on=(TODAY - timedelta(days=89),)),
                                   TODAY, rules)
    fresh = ready(interviews=(Interview(TODAY - timedelta(days=30), InterviewOutcome.approved),), supervised_on=())
    assert not supervision_overdue(fresh, TODAY, rules)  # the first period after approval is not over
    assert not supervision_overdue(ready(interviews=record.interviews, supervised_on=(), retired_on=TODAY), TODAY, rules)


def test_report_lists_what_expires_within_30_days_and_the_time_to_a_first_match() -> None:
    soon = ready(vettings=(Vetting(VettingKind.criminal_record_extract, date(2024, 12, 10), TODAY + timedelta(days=14)),),
                 trainings=(Training("friend_basics", TODAY - timedelta(days=300), TODAY + timedelta(days=30)),))
    later = ready()
    renewed = ready(vettings=soon.vettings + (Vetting(VettingKind.criminal_record_extract, TODAY, date(2028, 11, 1)),))
    assert [(e.what, e.code, e.expires_on) for e in expiring(soon, TODAY, 30)] == [
        ("vetting", "criminal_record_extract", TODAY + timedelta(days=14)),
        ("training", "friend_basics", TODAY + timedelta(days=30))]
    assert expiring(later, TODAY, 30) == [] and expiring(renewed, TODAY, 30) == []
    applied = VolunteerRecord(uuid.uuid4(), applied_on=TODAY)
    report = summarise([soon, later, applied], {soon.volunteer_id: soon.applied_on + timedelta(days=20),
                                                later.volunteer_id: later.applied_on + timedelta(days=40)}, TODAY, RULES)
    assert report.by_status["ready"] == 2 and report.by_status["applied"] == 1 and report.by_status["paused"] == 0
    assert [e.volunteer_id for e in report.expiring] == [soon.volunteer_id, soon.volunteer_id]
    assert report.days_to_first_match == 30.0 and report.matched_volunteers == 2


# -- phone friends: distance does not apply by phone ----------------------------------------------------

VARDE = Point(55.621, 8.481)
STOCKHOLM_ISH = Point(55.621, 13.2)  # about 300 km east of Varde


def citizen(*wishes: Wish) -> CitizenProfile:
    return CitizenProfile(citizen_id=uuid.uuid4(), consented_orgs=frozenset({"red-cross"}),
                          interests=frozenset({"walking"}), languages=frozenset({"da"}), postal_code="6800",
                          location=VARDE, wishes=frozenset(wishes), max_travel_km=10.0)


def volunteer(location: Point, *, in_person: bool = True, phone: bool = False) -> Candidate:
    return Candidate(candidate_id=uuid.uuid4(), kind=Kind.volunteer_friend, org="red-cross",
                     interests=frozenset({"walking"}), languages=frozenset({"da"}), location=location, travel_km=10.0,
                     capacity_left=1, meets_in_person=in_person, meets_by_phone=phone)


def test_a_phone_friend_300_km_away_is_proposed_to_a_citizen_who_wishes_a_phone_friend() -> None:
    far_phone = volunteer(STOCKHOLM_ISH, in_person=False, phone=True)
    judged = assess(citizen(Wish.phone_friend), far_phone)
    assert judged.eligible, judged.exclusions
    assert judged.distance_km > 290
    assert [r.code for r in judged.reason_codes][:2] == ["both_enjoy", "by_phone"]
    assert "km" not in [r.code for r in judged.reason_codes]
    assert judged.reasons[1] == "by phone or video: distance does not matter"
    assert rank(citizen(Wish.phone_friend), [far_phone])[0].candidate is far_phone


def test_an_in_person_wish_gets_no_phone_only_volunteer_and_no_one_out_of_reach() -> None:
    far_phone = volunteer(STOCKHOLM_ISH, in_person=False, phone=True)
    near_phone_only = volunteer(VARDE, in_person=False, phone=True)
    far_in_person = volunteer(STOCKHOLM_ISH)
    in_person = citizen(Wish.friend)
    assert set(assess(in_person, far_phone).exclusions) == {Exclusion.no_common_channel, Exclusion.out_of_reach}
    assert set(assess(in_person, near_phone_only).exclusions) == {Exclusion.no_common_channel}
    assert set(assess(in_person, far_in_person).exclusions) == {Exclusion.out_of_reach}
    assert rank(in_person, [far_phone, near_phone_only, far_in_person]) == []


def test_a_citizen_open_to_both_meets_near_volunteers_in_person_and_far_ones_by_phone() -> None:
    both = citizen(Wish.friend, Wish.phone_friend)
    near = assess(both, volunteer(VARDE, phone=True))
    far = assess(both, volunteer(STOCKHOLM_ISH, phone=True))
    assert near.eligible and "by_phone" not in [r.code for r in near.reason_codes]
    assert far.eligible and "by_phone" in [r.code for r in far.reason_codes]
    only_phone = citizen(Wish.phone_friend)
    assert set(assess(only_phone, volunteer(VARDE)).exclusions) == {Exclusion.no_common_channel}
