"""Creating the catalogue's topics (idempotent): for the embedded stack, tests
and the operators' one-shot job."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from brobygger_contracts import all_topics
from brobygger_contracts.catalogue import retention_ms


async def ensure_topics(bootstrap_servers: str, partitions: int = 3, replication: int = 1, **client_kw) -> list[str]:
    """Create every missing catalogue topic; returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kw)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in all_topics() if t not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(name=t, num_partitions=partitions, replication_factor=replication,
                          topic_configs={"retention.ms": str(retention_ms(t))}) for t in missing]
            )
            for name, code, *_ in getattr(response, "topic_errors", []):
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise RuntimeError(f"could not create topic {name}: error code {code}")
        return missing
    finally:
        await admin.close()
