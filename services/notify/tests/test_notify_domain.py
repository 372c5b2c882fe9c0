"""Notify's pure rules: rule books, channel choice, quiet hours, back-off, breaker, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.masking import mask, mask_email, mask_phone
from notify.domain.model import Channel, Contact, QuietHours, message_id, new_notification_id
from notify.domain.preferences import choose_channel, quiet_until
from notify.domain.resilience import CircuitBreaker, backoff_seconds
from notify.domain.rules import RuleError, Target, parse_rules

RULES = {
    "rules": [
        {"id": "to-guide", "event": "MatchProposed", "recipient": {"role": "guide", "from": "citizen_guide"},
         "template": "match_proposed"},
        {"id": "to-volunteer", "event": "MatchAccepted", "when": {"kind": "volunteer_friend"},
         "recipient": {"role": "volunteer", "from": "event:candidate_id"}, "template": "t", "channels": ["sms", "email"]},
        {"id": "follow-up", "event": "FollowUpDue", "recipient": {"role": "guide", "from": ["event:guide_id", "citizen_guide"]},
         "template": "t"},
        {"id": "ops", "event": "NotificationFailed", "recipient": {"role": "operator", "from": "directory"}, "template": "t"},
    ]
}


def guide(**kw) -> Contact:  # noqa: ANN003
    values = dict(recipient_id="g1", role="guide", display_name="G", email="g@x.dk", phone="+4511223344")
    values.update(kw)
    return Contact(**values)


def test_rules_name_their_targets():
    book = parse_rules(RULES)
    [p] = book.plan("MatchProposed", {"citizen_id": "c1"})
    assert p.target == Target("guide", guide_of_citizen="c1") and p.channels == (Channel.email,)
    assert book.plan("MatchAccepted", {"kind": "activity", "candidate_id": "v1"}) == []
    [v] = book.plan("MatchAccepted", {"kind": "volunteer_friend", "candidate_id": "v1"})
    assert v.target == Target("volunteer", recipient_id="v1") and v.channels == (Channel.sms, Channel.email)
    assert book.plan("FollowUpDue", {"guide_id": "g9", "citizen_id": "c1"})[0].target.recipient_id == "g9"
    assert book.plan("FollowUpDue", {"guide_id": None, "citizen_id": "c1"})[0].target.guide_of_citizen == "c1"
    assert book.plan("NotificationFailed", {})[0].target.everyone_with_role
    assert book.plan("GroupFormed", {}) == []


@pytest.mark.parametrize("broken, complaint", [
    ({"rules": []}, "non-empty"),
    ({"rules": [{"id": "a", "event": "MatchProposed", "template": "t"}]}, "missing recipient"),
    ({"rules": [{"id": "a", "event": "Nope", "recipient": {"role": "guide"}, "template": "t"}]}, "unknown event"),
    ({"rules": [{"id": "a", "event": "MatchProposed", "recipient": {"role": "king"}, "template": "t"}]}, "unknown role"),
    ({"rules": [{"id": "a", "event": "MatchProposed", "recipient": {"role": "guide", "from": "mars"}, "template": "t"}]}, "source"),
    ({"rules": [{"id": "a", "event": "MatchProposed", "recipient": {"role": "guide"}, "template": "t", "channels": ["fax"]}]}, "fax"),
])
def test_rules_that_cannot_work_are_refused(broken, complaint):
    with pytest.raises(RuleError, match=complaint):
        parse_rules(broken, frozenset({"MatchProposed"}))


def test_channel_choice_honours_preference_opt_out_and_addresses():
    both = (Channel.email, Channel.sms)
    assert choose_channel(guide(), both).channel is Channel.email
    assert choose_channel(guide(preferred_channel=Channel.sms), both).channel is Channel.sms
    assert choose_channel(guide(preferred_channel=Channel.webhook), both).channel is Channel.email  # rule does not allow it
    assert choose_channel(guide(opted_out=frozenset({Channel.email})), both).channel is Channel.sms
    assert choose_channel(guide(email=None), both).channel is Channel.sms
    out = choose_channel(guide(opted_out=frozenset(both)), both)
    assert out.channel is None and out.opted_out
    none = choose_channel(guide(email=None, phone=None), both)
    assert none.channel is None and not none.opted_out and "no address" in none.reason


def test_quiet_hours_defer_to_their_end_in_the_recipients_zone():
    night = QuietHours.parse("21:00-08:00")
    cph = ZoneInfo("Europe/Copenhagen")
    late = datetime(2026, 1, 10, 23, 30, tzinfo=cph).astimezone(UTC)
    assert quiet_until(late, night, "Europe/Copenhagen") == datetime(2026, 1, 11, 8, 0, tzinfo=cph).astimezone(UTC)
    early = datetime(2026, 1, 10, 6, 0, tzinfo=cph).astimezone(UTC)
    assert quiet_until(early, night, "Europe/Copenhagen") == datetime(2026, 1, 10, 8, 0, tzinfo=cph).astimezone(UTC)
    assert quiet_until(datetime(2026, 1, 10, 12, 0, tzinfo=cph).astimezone(UTC), night, "Europe/Copenhagen") is None
    lunch = QuietHours.parse("12:00-13:00")
    assert quiet_until(datetime(2026, 1, 10, 12, 30, tzinfo=cph), lunch, "Europe/Copenhagen") == datetime(2026, 1, 10, 13, 0, tzinfo=cph)
    with pytest.raises(ValueError):
        QuietHours.parse("late")


@given(
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    start=st.times(), end=st.times(),
)
def test_a_deferred_sms_goes_out_when_quiet_hours_end(moment, start, end):
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        return
    hours = QuietHours(start, end)
    until = quiet_until(moment, hours, "Europe/Stockholm")
    if until is not None:
        assert moment < until <= moment + timedelta(days=1, hours=2)
        assert until.astimezone(ZoneInfo("Europe/Stockholm")).time().replace(second=0, microsecond=0) in (end, (datetime.combine(datetime.min, end) + timedelta(hours=1)).time())


@given(attempt=st.integers(1, 40), base=st.floats(0.01, 10), cap=st.floats(0.1, 600), r=st.floats(0, 1))
def test_backoff_grows_but_stays_within_the_cap(attempt, base, cap, r):
    delay = backoff_seconds(attempt, base, cap, rand=lambda: r)
    ceiling = min(cap, base * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_breaker_opens_after_failures_and_lets_a_trial_through_after_cooldown():
    breaker = CircuitBreaker(threshold=3, cooldown=10)
    for t in range(3):
        assert breaker.allows(t)
        breaker.record_failure(t)
    assert breaker.is_open and not breaker.allows(5)
    assert breaker.allows(12.5)  # half-open: a trial
    breaker.record_failure(12.5)  # trial failed: closed for another cooldown
    assert not breaker.allows(20) and breaker.allows(23)
    breaker.record_success()
    assert not breaker.is_open and breaker.allows(23)


@given(local=st.text("abcdefghij.", min_size=2, max_size=20), domain=st.sampled_from(["varde.dk", "x.se"]))
def test_masked_email_never_shows_the_local_part(local, domain):
    masked = mask_email(f"{local}@{domain}")
    assert masked == f"{local[0]}***@{domain}"  # one letter of the local part, never more


def test_masks():
    assert mask_phone("+45 11 22 33 44") == "***44"
    assert mask(Channel.webhook, "https://abf.example/hooks/secret-token") == "https://abf.example/***"


def test_a_notification_id_is_random_and_gives_the_message_id():
    a = new_notification_id()
    assert a != new_notification_id() and a.version == 4
    assert message_id(a, "varde.example") == f"<{a}@varde.example>"
