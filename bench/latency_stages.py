"""Where the time of bench/latency.py goes: per citizen, the moments each
service wrote down in its own database (outbox `created_at`, inbox
`handled_at`) laid between the bench's own: the POST, NeedsClarified and
MatchProposed seen on the bus by its consumer (which adds its own fetch wait,
about 10 ms), the e-mail at the catcher.

Read after the run, while the services' databases still exist. The services
stamp these with their own clock (UTC wall time); the bench's moments are
converted with one offset between the two clocks. `created_at` is stamped when
a handler or endpoint wrote the event, before its transaction committed;
`handled_at` after a batch's handlers ran, before its commit. The outbox's
`sent_at` is not used: the relay records it after the whole batch went out and
the database let it write, which can be long after the broker had the record.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.events.matching import MatchProposed

STAGES = (
    ("journey: POST -> NeedsClarified written to its outbox", "post", "nc_created"),
    ("journey's relay: written -> seen on the bus", "nc_created", "nc_seen"),
    ("matching: seen on the bus -> MatchProposed written", "nc_seen", "mp_created"),
    ("matching's relay: written -> seen on the bus", "mp_created", "mp_seen"),
    ("notify: MatchProposed seen on the bus -> handled", "mp_seen", "notify_handled"),
    ("notify: handled -> e-mail at the catcher", "notify_handled", "mail"),
)


def _seconds(value: object) -> float | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the services store UTC
    return moment.timestamp()


async def _rows(url: str, query: str, **params: object) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(query), params)).all()
    finally:
        await engine.dispose()


async def collect(urls: dict[str, str], moments: dict[str, dict[str, float]]) -> None:
    """Adds the services' moments to `moments` (citizen -> name -> wall-clock seconds),
    which holds the bench's own (post, nc_seen, mp_seen, mail). `urls`: database URL per
    instance name (`package@org`)."""
    nc_type, mp_type = NeedsClarified.event_type(), MatchProposed.event_type()
    outbox = "SELECT key, event_id, created_at FROM outbox WHERE event_type = :t ORDER BY id"
    inbox = "SELECT event_id, handled_at FROM inbox WHERE event_type = :t"
    for key, _event_id, created in await _rows(urls["journey@varde-kommune"], outbox, t=nc_type):
        if key in moments:
            moments[key].setdefault("nc_created", _seconds(created))
    mp_event: dict[str, tuple[str, float | None]] = {}
    for name, url in urls.items():
        if name.startswith("matching@"):
            for key, event_id, created in await _rows(url, outbox, t=mp_type):
                created_s = _seconds(created)
                if key in moments and (key not in mp_event or created_s < moments[key]["mp_created"]):
                    mp_event[key] = (event_id, created_s)
                    moments[key]["mp_created"] = created_s
    handled = {event_id: _seconds(at) for event_id, at in await _rows(urls["notify@varde-kommune"], inbox, t=mp_type)}
    for key, (event_id, _) in mp_event.items():
        if event_id in handled:
            moments[key]["notify_handled"] = handled[event_id]


def table(moments: dict[str, dict[str, float]]) -> str:
    lines = [f"{'stage':62s} {'median':>8s} {'p90':>8s} {'p99':>8s} {'max':>8s}  n"]
    for label, start, end in STAGES:
        spans = sorted(m[end] - m[start] for m in moments.values() if m.get(start) is not None and m.get(end) is not None)
        if not spans:
            lines.append(f"{label:62s} {'-':>8s}")
            continue
        at = lambda p: spans[max(0, math.ceil(p / 100 * len(spans)) - 1)] * 1000  # noqa: E731
        lines.append(f"{label:62s} {at(50):6.0f}ms {at(90):6.0f}ms {at(99):6.0f}ms {spans[-1] * 1000:6.0f}ms  {len(spans)}")
    return "\n".join(lines)
