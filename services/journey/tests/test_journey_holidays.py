"""Working days skip public holidays of the partnership's country (HOLIDAY_COUNTRY, default DK)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pydantic
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from journey.adapters.holiday_calendar import public_holidays
from journey.adapters.tables import timers
from journey.bootstrap import Settings
from journey.domain.timers import TimerKind, TimerPolicy, add_working_days, first_contact_due
from journey_testkit import FakeClock, referral

DK = public_holidays("DK")
SE = public_holidays("SE")
CHRISTMAS_EVE = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # a Thursday


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def test_the_predicate_decides_which_weekdays_are_off():
    """Pure: the domain only asks the calendar it is given."""
    off = {date(2026, 3, 3), date(2026, 3, 4)}.__contains__
    assert add_working_days(at(3, 2), 1, off) == at(3, 5)
    assert add_working_days(at(3, 2), 1) == at(3, 3)
    assert add_working_days(at(3, 2), 0, off) == at(3, 2)


def test_christmas_in_denmark():
    # Friday 25 and Saturday 26 are holidays, then the weekend: Monday, Tuesday, Wednesday.
    assert add_working_days(CHRISTMAS_EVE, 3, DK) == at(12, 30)
    assert add_working_days(CHRISTMAS_EVE, 3) == at(12, 29)  # weekdays only: Friday 25 counts
    assert first_contact_due(CHRISTMAS_EVE, TimerPolicy(is_holiday=DK)) == at(12, 30)
    assert first_contact_due(CHRISTMAS_EVE, TimerPolicy(is_holiday=DK), urgency="urgent") == at(12, 28)
    assert add_working_days(at(12, 30), 2, DK) == at(1, 4, 2027)  # New Year's Day 2027 is a Friday


def test_easter_in_denmark():
    # 2026: Maundy Thursday 2 April, Good Friday 3 April, Easter Monday 6 April.
    assert [DK(date(2026, 4, d)) for d in (1, 2, 3, 6, 7)] == [False, True, True, True, False]
    assert add_working_days(at(4, 1), 1, DK) == at(4, 7)
    assert add_working_days(at(4, 1), 1) == at(4, 2)
    # Another year, another Easter: 2027 Maundy Thursday is 25 March.
    assert add_working_days(at(3, 24, 2027), 1, DK) == at(3, 30, 2027)


def test_sweden_is_not_denmark():
    # Maundy Thursday is a Danish holiday only; Epiphany, 1 May and 6 June (National Day) Swedish only.
    assert add_working_days(at(4, 1), 1, SE) == at(4, 2)
    assert add_working_days(at(1, 5), 1, SE) == at(1, 7)
    assert add_working_days(at(1, 5), 1, DK) == at(1, 6)
    assert add_working_days(at(4, 30), 1, SE) == at(5, 4)
    assert add_working_days(at(4, 30), 1, DK) == at(5, 1)
    assert SE(date(2027, 6, 4)) is False and DK(date(2027, 6, 4)) is False
    assert SE(date(2027, 6, 6)) and not DK(date(2027, 6, 6))
    # The library's public calendar: Constitution Day (5 June) is not a Danish public holiday.
    assert not DK(date(2026, 6, 5)) and not SE(date(2026, 6, 5))


def test_no_country_means_weekdays_only():
    none = public_holidays("")
    assert not any(none(date(2026, 12, 24) + timedelta(days=n)) for n in range(10))
    assert add_working_days(CHRISTMAS_EVE, 3, none) == at(12, 29)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)), st.integers(0, 30))
def test_working_days_never_land_on_a_danish_holiday_and_count_right(start, days):
    due = add_working_days(start, days, DK)
    if days:
        assert due.weekday() < 5 and not DK(due.date())
    working = [start + timedelta(days=n) for n in range(1, (due - start).days + 1)]
    assert sum(1 for d in working if d.weekday() < 5 and not DK(d.date())) == days


def test_settings_choose_the_country():
    assert Settings().holiday_country == "DK"
    assert Settings(holiday_country="se").holiday_country == "SE"
    assert Settings().context().policy.is_holiday(date(2026, 12, 25))
    assert Settings(holiday_country="SE").context().policy.is_holiday(date(2026, 6, 6))
    assert not Settings(holiday_country="").context().policy.is_holiday(date(2026, 12, 25))
    with pytest.raises(pydantic.ValidationError, match="no public holidays known"):
        Settings(holiday_country="Danmark")


@pytest.mark.parametrize(("country", "due"), [("DK", at(12, 30)), ("", at(12, 29))])
async def test_a_christmas_referral_gets_its_first_contact_after_the_holidays(start_journey, country, due):
    event = referral(received_at=CHRISTMAS_EVE)
    async with start_journey(FakeClock(CHRISTMAS_EVE), holiday_country=country) as svc:
        await svc.send(event)
        async with svc.runtime.db.sessions() as s:
            [due_at] = (await s.execute(sa.select(timers.c.due_at).where(timers.c.kind == TimerKind.first_contact.value))).scalars()
    assert due_at.replace(tzinfo=due_at.tzinfo or UTC) == due
