"""What the runtime's parts need of each other, as a protocol: the consumer,
the relay, the singleton loops and the unit of work depend on this, not on
`ServiceRuntime`, so `service.py` can wire them without an import circle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from faststream.kafka import KafkaBroker
from opentelemetry.trace import Tracer

from brobygger_runtime.citizen_keys import CitizenKeys
from brobygger_runtime.db import Database
from brobygger_runtime.metrics import DeliveryMetrics
from brobygger_runtime.settings import ServiceSettings


@dataclass(frozen=True)
class DeliveryTables:
    inbox: sa.Table
    outbox: sa.Table
    lease: sa.Table
    dead_letters: sa.Table
    access_log: sa.Table
    erased_subjects: sa.Table

    @classmethod
    def of(cls, metadata: sa.MetaData) -> "DeliveryTables":
        t = metadata.tables
        return cls(inbox=t["inbox"], outbox=t["outbox"], lease=t["lease"], dead_letters=t["dead_letters"],
                   access_log=t["access_log"], erased_subjects=t["erased_subjects"])


class RuntimeParts(Protocol):
    """The shared pieces of one running service instance."""

    settings: ServiceSettings
    db: Database
    tables: DeliveryTables
    metrics: DeliveryMetrics
    tracer: Tracer
    broker: KafkaBroker
    instance_id: str
    citizen_keys: CitizenKeys
    """Citizens' data keys, for sealing and opening sealed parts."""

    def wake_relay(self) -> None:
        """Events were written to the outbox: publish them soon."""
