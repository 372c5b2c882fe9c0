"""The partnership's reports, read from journey's tables; the arithmetic is in domain/reports."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters.anonymise import ucla_total
from journey.adapters.tables import groups, journeys, measures, proposals, punch_cards, served_interests, timers, visits
from journey.domain.follow_through import FOLLOW_UP_POINTS
from journey.domain.journey import State
from journey.domain.reports import (
    EVERYTHING, MIN_CELL, PairedMeasure, Period, WaitingCitizen, cohort_of, gap_report, loneliness_change, waiting_summary,
)
from journey.domain.timers import TimerKind
from journey.service_layer.context import Context

FUNNEL_STAGES = ("referred", "contacted", "clarified", "match_accepted", "first_visit")
OUTCOMES = ("completed", "dropped_out", "escalated", "declined")


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 2)


async def _journeys(uow: UnitOfWork, period: Period = EVERYTHING) -> list[sa.Row]:
    """The journeys referred within `period` (all of them by default)."""
    query = sa.select(journeys).order_by(journeys.c.referred_at)
    if period.start is not None:
        query = query.where(journeys.c.referred_at >= period.start)
    if period.end is not None:
        query = query.where(journeys.c.referred_at < period.end)
    return list((await uow.session.execute(query)).all())


def _funnel_row(rows: list[sa.Row]) -> dict:
    row = {
        "referred": len(rows),
        "contacted": sum(1 for j in rows if j.first_contact_at is not None),
        "clarified": sum(1 for j in rows if j.clarified_at is not None),
        "match_accepted": sum(1 for j in rows if j.match_accepted_at is not None),
        "first_visit": sum(1 for j in rows if j.first_visit_at is not None),
        "open": sum(1 for j in rows if j.state != State.exited.value),
    }
    row.update({f"exited_{o}": sum(1 for j in rows if j.outcome == o) for o in OUTCOMES})
    return row


async def funnel(uow: UnitOfWork, period: Period = EVERYTHING) -> dict:
    """How far citizens got, by referral source and by referring organisation."""
    rows = await _journeys(uow, period)
    by_source: dict[str, list] = defaultdict(list)
    by_org: dict[str, list] = defaultdict(list)
    for j in rows:
        by_source[j.source].append(j)
        by_org[j.referrer_org or "none"].append(j)
    return {
        "total": _funnel_row(rows),
        "by_source": {k: _funnel_row(v) for k, v in sorted(by_source.items())},
        "by_referrer_org": {k: _funnel_row(v) for k, v in sorted(by_org.items())},
    }


async def waiting_times(uow: UnitOfWork, period: Period = EVERYTHING) -> dict:
    """Days from referral to first contact, to an accepted match and to the first visit."""
    rows = await _journeys(uow, period)

    def spans(column: str) -> list[float]:
        return [_days(j.referred_at, getattr(j, column)) for j in rows if getattr(j, column) is not None]

    return {
        "to_first_contact": waiting_summary(spans("first_contact_at")),
        "to_match": waiting_summary(spans("match_accepted_at")),
        "to_first_visit": waiting_summary(spans("first_visit_at")),
    }


async def waiting_beyond_limits(uow: UnitOfWork, ctx: Context) -> list[dict]:
    """Who waits too long right now: for first contact, for a match, for the first visit."""
    now = ctx.now()
    overdue_contact = dict(
        (await uow.session.execute(
            sa.select(timers.c.journey_id, timers.c.due_at).where(
                timers.c.kind == TimerKind.first_contact.value, timers.c.cancelled_at.is_(None), timers.c.due_at <= now
            )
        )).all()
    )
    found = []
    for j in await _journeys(uow):
        if j.state == State.exited.value or j.erased or j.hidden:
            continue
        waiting_for, since, limit = None, None, None
        if j.first_contact_at is None and j.journey_id in overdue_contact:
            waiting_for, since, limit = "first_contact", j.referred_at, overdue_contact[j.journey_id]
        elif j.state in (State.clarified.value, State.matching.value) and j.match_accepted_at is None and _days(j.clarified_at, now) > ctx.match_wait_limit_days:
            waiting_for, since = "match", j.clarified_at
        elif j.state == State.match_accepted.value and j.first_visit_at is None and _days(j.match_accepted_at, now) > ctx.first_visit_wait_limit_days:
            waiting_for, since = "first_visit", j.match_accepted_at
        if waiting_for:
            found.append({
                "journey_id": j.journey_id, "citizen_id": j.citizen_id, "guide_id": j.guide_id, "state": j.state,
                "waiting_for": waiting_for, "waiting_days": _days(since, now),
                "due_since": limit,
            })
    return sorted(found, key=lambda w: -w["waiting_days"])


async def accompaniment(uow: UnitOfWork) -> dict:
    s = uow.session
    accompanied = (await s.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(visits.c.hours), 0.0)).where(visits.c.companion.is_not(None))
    )).one()
    first_visits = (await s.execute(
        sa.select(sa.func.count(), sa.func.count().filter(visits.c.companion.is_not(None))).where(visits.c.first.is_(True))
    )).one()
    cards = (await s.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(punch_cards.c.granted_hours), 0.0),
                  sa.func.coalesce(sa.func.sum(punch_cards.c.drawn_hours), 0.0))
    )).one()
    return {
        "accompanied_visits": accompanied[0], "accompaniment_hours": float(accompanied[1]),
        "first_visits": first_visits[0], "first_visits_accompanied": first_visits[1],
        "punch_cards": cards[0], "hours_granted": float(cards[1]), "hours_drawn": float(cards[2]),
    }


async def group_figures(uow: UnitOfWork) -> dict:
    rows = (await uow.session.execute(sa.select(groups.c.state))).scalars().all()
    formed = [r for r in rows if r != "proposed"]
    return {
        "proposed_waiting": len(rows) - len(formed), "formed": len(formed),
        "self_running": sum(1 for r in formed if r == "self_running"),
    }


def _total(answers: dict | None) -> int | None:
    """The UCLA total of the answers (a forgotten journey keeps only the total)."""
    reduced = ucla_total(answers)
    return reduced["total"] if reduced else None


async def loneliness(uow: UnitOfWork, period: Period = EVERYTHING) -> dict:
    """UCLA totals before and after, only for journeys measured at both ends (paired)."""
    rows = await _journeys(uow, period)
    pairs = [PairedMeasure(_total(j.baseline), _total(j.final)) for j in rows if j.baseline and j.final]
    result = loneliness_change(pairs)
    result["baseline_only"] = sum(1 for j in rows if j.baseline and not j.final)
    return result


async def loneliness_cohorts(uow: UnitOfWork, period: Period = EVERYTHING) -> dict:
    """Per cohort (the quarter of the referral) the baseline paired with each later time point (3 months
    after the start, exit, 6 months after exit), each only over the citizens measured at both."""
    rows = await _journeys(uow, period)
    later = await _later_measures(uow, [j.journey_id for j in rows])
    cohorts: dict[str, dict[str, list[PairedMeasure]]] = defaultdict(lambda: {p.value: [] for p in FOLLOW_UP_POINTS})
    for j in rows:
        if not j.baseline:
            continue
        cohort = cohorts[cohort_of(j.referred_at)]  # a cohort measured at the start shows, paired or not yet
        for point in FOLLOW_UP_POINTS:
            total = _total(j.final) if point.value == "exit" and j.final else later.get((j.journey_id, point.value))
            if total is not None:
                cohort[point.value].append(PairedMeasure(_total(j.baseline), total))
    return {c: {p: loneliness_change(v) for p, v in points.items()} for c, points in sorted(cohorts.items())}


async def _later_measures(uow: UnitOfWork, journey_ids: list[str]) -> dict[tuple[str, str], int]:
    """(journey, time point) -> UCLA total, for the time points after the baseline."""
    rows = (await uow.session.execute(sa.select(measures.c.journey_id, measures.c.time_point, measures.c.answers).where(
        measures.c.journey_id.in_(journey_ids), measures.c.time_point.in_([p.value for p in FOLLOW_UP_POINTS])))).all()
    return {(r.journey_id, r.time_point): _total(r.answers) for r in rows}


async def partners(uow: UnitOfWork, ctx: Context, period: Period = EVERYTHING) -> dict:
    """What each organisation contributed: the citizens it referred, the journeys its guides carry (this
    instance's organisation), the proposals of its matching that citizens accepted, the distinct activities
    and the volunteer friendships among them. Journeys by referral date, proposals by when they were accepted."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {
        "referrals": 0, "guides_journeys": 0, "proposals_accepted": 0, "activities": 0, "volunteer_friendships": 0})
    for j in await _journeys(uow, period):
        if j.referrer_org:
            found[j.referrer_org]["referrals"] += 1
        if j.guide_id:
            found[ctx.org_id]["guides_journeys"] += 1
    accepted = (await uow.session.execute(sa.select(
        proposals.c.proposing_org, proposals.c.kind, proposals.c.candidate_id, proposals.c.decided_at,
    ).where(proposals.c.status.in_(("accepted", "stopped")), proposals.c.decided_at.is_not(None)))).all()
    activities: dict[str, set[str]] = defaultdict(set)
    for p in accepted:
        if not period.holds(p.decided_at):
            continue
        found[p.proposing_org]["proposals_accepted"] += 1
        if p.kind == "volunteer_friend":
            found[p.proposing_org]["volunteer_friendships"] += 1
        else:
            activities[p.proposing_org].add(p.candidate_id)
    for org, ids in activities.items():
        found[org]["activities"] = len(ids)
    return {org: figures for org, figures in sorted(found.items())}


async def gaps(uow: UnitOfWork, min_citizens: int = MIN_CELL) -> list[dict]:
    """Interests waiting citizens share in an area where no activity serves them."""
    waiting = [
        WaitingCitizen(j.clarification["postal_code"], tuple(j.clarification["interests"]))
        for j in await _journeys(uow)
        if j.state in (State.clarified.value, State.matching.value) and j.clarification and not j.erased and not j.hidden
    ]
    served = {(p, i) for p, i in (await uow.session.execute(sa.select(served_interests.c.postal_code, served_interests.c.interest))).all()}
    return gap_report(waiting, served, min_citizens)


async def all_reports(uow: UnitOfWork, ctx: Context, citizens_listed: bool = True, period: Period = EVERYTHING) -> dict:
    """Every report; `citizens_listed` False (steering, partners) leaves out the list of waiting citizens.
    `period` narrows the journeys counted (by referral date); the waiting list and gaps are of today."""
    waiting = await waiting_beyond_limits(uow, ctx) if citizens_listed else []
    return {
        "generated_at": ctx.now(),
        "funnel": await funnel(uow, period),
        "waiting_times": await waiting_times(uow, period),
        "waiting_beyond_limits": waiting,
        "accompaniment": await accompaniment(uow),
        "groups": await group_figures(uow),
        "loneliness": await loneliness(uow, period),
        "loneliness_cohorts": await loneliness_cohorts(uow, period),
        "partners": await partners(uow, ctx, period),
        "gaps": await gaps(uow, MIN_CELL),
    }
