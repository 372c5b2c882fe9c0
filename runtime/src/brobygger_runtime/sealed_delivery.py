"""Where sealing meets delivery: boxes are closed on the way into the outbox and
opened on the way out of a consumed batch, so handlers and use cases never
touch a key (DESIGN.md section 2).

- Publishing: `seal_for_outbox` seals an event's opened part under its
  citizen's key before the row is written; outbox rows hold only ciphertext.
- Consuming: `open_batch` fetches the keys of a batch's sealed events in one
  call and hands each handler its event with `event.opened` readable. An event
  whose key this organisation cannot get (erased, consent withdrawn or never
  given) is `NotOurs`: skipped and committed, never an error. A box that does
  not open with the right key is dead-lettered (cause `sealed_part`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts import DeadLetterCause, Envelope, Event
from brobygger_contracts.sealed import SealedEvent
from brobygger_runtime.citizen_keys import CitizenKeys
from brobygger_runtime.errors import PermanentError
from brobygger_runtime.incoming import Foreign, Incoming, Rejection
from brobygger_runtime.sealing import SealBroken, open_event, seal_event


@dataclass(frozen=True)
class NotOurs:
    """A sealed event this organisation may not read: no key for its citizen."""

    envelope: Envelope


class NoDataKey(PermanentError):
    """This organisation may not seal (or read) the citizen's fields: no key handed out."""


async def seal_for_outbox(keys: CitizenKeys, session: AsyncSession, event: Event) -> Event:
    """`event` ready for the outbox: a sealed event's opened part sealed under its citizen's key."""
    if not isinstance(event, SealedEvent):
        return event
    key = await keys.key_for(event.subject(), session)
    if key is None:
        raise NoDataKey(f"no data key for the subject of {type(event).__name__}: "
                        "erased, or its consent does not name this organisation")
    return seal_event(event, key)


Item = Incoming | Foreign | Rejection | NotOurs


async def open_batch(keys: CitizenKeys, session: AsyncSession, items: Sequence[Item]) -> list[Item]:
    """The batch's items with every sealed event opened, or judged NotOurs or rejected."""
    for item in items:
        if isinstance(item, Incoming) and item.event is not None:
            keys.observe(item.event)  # before fetching: an erasure in this batch must not be undone by it
    sealed = [item for item in items if isinstance(item, Incoming) and isinstance(item.event, SealedEvent)]
    wanted = [item.event.subject() for item in sealed if item.event.sealed is not None]
    found = await keys.keys_for(wanted, session) if wanted else {}
    opened: list[Item] = []
    for item in items:
        if not (isinstance(item, Incoming) and isinstance(item.event, SealedEvent)):
            opened.append(item)
            continue
        event = item.event
        key = found.get(event.subject())
        if key is None or event.sealed is None:  # no box: stripped by an erasure
            opened.append(NotOurs(item.envelope))
            continue
        try:
            opened.append(Incoming(item.envelope, open_event(event, key)))
        except SealBroken as exc:
            opened.append(Rejection(DeadLetterCause.sealed_part, str(exc)))
    return opened
