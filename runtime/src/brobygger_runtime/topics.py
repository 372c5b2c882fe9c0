"""Creating topics (idempotent): a partnership's, for the embedded stack, tests
and the operators' one-shot job; and an instance's own, at its start.

On real Kafka with ACLs a service may not create topics: the bus operator
does (`brobygger topics create`), and a service whose own topic is missing
says so on /health/ready instead of crashing (`OwnTopics`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code, TopicAlreadyExistsError

from brobygger_contracts import partnership_topics
from brobygger_contracts.catalogue import retention_ms, topics_of_publisher

log = logging.getLogger(__name__)


class TopicsNotCreated(Exception):
    """The broker refused to create topics (not authorised, a policy): an operator must."""

    def __init__(self, refused: dict[str, str]) -> None:
        self.refused = refused
        super().__init__("; ".join(f"{name}: {why}" for name, why in sorted(refused.items())))


async def create_missing_topics(bootstrap_servers: str, topics: Iterable[str], partitions: int = 3,
                                replication: int = 1, **client_kw) -> list[str]:
    """Create those of `topics` the broker does not have; returns the ones created.
    Raises TopicsNotCreated naming each topic the broker refused and why."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kw)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(topics) - existing)
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name=t, num_partitions=partitions, replication_factor=replication,
                      topic_configs={"retention.ms": str(retention_ms(t))}) for t in missing]
        )
        refused = {name: for_code(code).__name__ for name, code, *_ in getattr(response, "topic_errors", [])
                   if code not in (0, TopicAlreadyExistsError.errno)}
        if refused:
            raise TopicsNotCreated(refused)
        return missing
    finally:
        await admin.close()


async def ensure_topics(bootstrap_servers: str, partnership: str, runs: Mapping[str, Iterable[str]],
                        partitions: int = 3, replication: int = 1, **client_kw) -> list[str]:
    """Create every missing topic of a partnership (`runs`: organisation -> the
    services it runs), dead-letter topics included; returns the ones created."""
    return await create_missing_topics(bootstrap_servers, partnership_topics(partnership, runs), partitions,
                                       replication, **client_kw)


async def missing_topics(bootstrap_servers: str, topics: Iterable[str], **client_kw) -> list[str]:
    """Those of `topics` the broker does not list (with ACLs: does not show us)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kw)
    await admin.start()
    try:
        return sorted(set(topics) - set(await admin.list_topics()))
    finally:
        await admin.close()


class OwnTopics:
    """An instance's own topics (what it publishes, and their .dlt): created at
    start where the broker lets it, otherwise reported until an operator has."""

    def __init__(self, bootstrap_servers: str, partnership: str, service: str, org: str, *, create: bool,
                 **client_kw) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics_of_publisher(partnership, service, org)
        self.create = create
        self.client_kw = client_kw
        self.state = "checking"
        """"ok", or what is missing and why: for /health/ready."""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    async def check(self) -> bool:
        """Create what is missing (when allowed) and record the outcome; broker
        errors other than a refusal propagate (the broker may not be up yet)."""
        try:
            if self.create:
                created = await create_missing_topics(self.bootstrap_servers, self.topics, **self.client_kw)
                if created:
                    log.info("created own topics %s", ", ".join(created))
            missing = await missing_topics(self.bootstrap_servers, self.topics, **self.client_kw)
            if missing:
                self.state = f"missing {', '.join(missing)}: not created (KAFKA_ENSURE_TOPICS=false); " \
                             "the bus operator creates them with `brobygger topics create`"
        except TopicsNotCreated as exc:
            self.state = f"missing, and the broker refused to create them: {exc}; " \
                         "the bus operator creates them with `brobygger topics create`"
        else:
            if not missing:
                self.state = "ok"
        if not self.ok:
            log.error("own topics not ready: %s", self.state)
        return self.ok
