"""The generated ACLs on a real Apache Kafka (the embedded Tansu cannot enforce
any): Red Cross's matching principal is refused when it writes the
municipality's referral topic, and allowed on its own. Needs a Docker engine;
reported as not run where there is none."""

from __future__ import annotations

import asyncio
import importlib.util
import time
import uuid

import pytest

pytestmark = pytest.mark.needs_docker

IMAGE = "apache/kafka:3.9.0"
JAAS = "KafkaServer {\n  org.apache.kafka.common.security.scram.ScramLoginModule required;\n};\n"


def _kafka_with_scram_and_acls(port: int, jaas_path: str):  # noqa: ANN202
    from testcontainers.core.container import DockerContainer

    env = {
        "CLUSTER_ID": "5L6g3nShT-eMCtK--X86sw",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        # CLIENT (mapped to the host): SASL/SCRAM only. INTERNAL and CONTROLLER stay inside the
        # container (not mapped): the test's own administration, as the compose init job's.
        "KAFKA_LISTENERS": "CLIENT://:9092,CONTROLLER://:9093,INTERNAL://:9094",
        "KAFKA_ADVERTISED_LISTENERS": f"CLIENT://localhost:{port},INTERNAL://localhost:9094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
        "KAFKA_OPTS": "-Djava.security.auth.login.config=/etc/kafka/kafka_server_jaas.conf",
        "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
        "KAFKA_SUPER_USERS": "User:ANONYMOUS",  # the unmapped plaintext listeners only
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    }
    container = DockerContainer(IMAGE).with_bind_ports(9092, port).with_volume_mapping(
        jaas_path, "/etc/kafka/kafka_server_jaas.conf", "ro")
    for key, value in env.items():
        container = container.with_env(key, value)
    return container


def _run(container, *command: str) -> str:  # noqa: ANN001
    code, output = container.exec(list(command))
    assert code == 0, f"{' '.join(command)}: {output.decode(errors='replace')}"
    return output.decode(errors="replace")


def test_red_cross_matching_may_write_its_own_topic_and_not_the_municipalitys_referral_topic(repo, tmp_path) -> None:
    import yaml
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import TopicAuthorizationFailedError

    from brobygger_contracts import topic_of_service
    from brobygger_runtime.kafka_options import kafka_client_options
    from brobygger_runtime.settings import ServiceSettings
    from brobygger_stack.embedded_kafka import free_port

    spec = importlib.util.spec_from_file_location("deploy_kafka_generate", repo / "deploy/kafka/generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    acls = yaml.safe_load((repo / "deploy/kafka/acls.yaml").read_text())
    partnership = acls["partnership"]
    jaas = tmp_path / "kafka_server_jaas.conf"
    jaas.write_text(JAAS)
    jaas.chmod(0o644)
    port = free_port()
    admin = "localhost:9094"
    with _kafka_with_scram_and_acls(port, str(jaas)) as kafka:
        deadline = time.monotonic() + 90
        while kafka.exec(["/opt/kafka/bin/kafka-broker-api-versions.sh", "--bootstrap-server", admin])[0] != 0:
            assert time.monotonic() < deadline, "Kafka did not start"
            time.sleep(1)
        password = uuid.uuid4().hex
        _run(kafka, "/opt/kafka/bin/kafka-configs.sh", "--bootstrap-server", admin, "--alter", "--entity-type", "users",
             "--entity-name", "matching.red-cross", "--add-config", f"SCRAM-SHA-512=[password={password}]")
        theirs = topic_of_service("referral", partnership, "varde-kommune")
        ours = topic_of_service("matching", partnership, "red-cross")
        for topic in (theirs, ours):
            _run(kafka, "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", admin, "--create", "--topic", topic,
                 "--partitions", "1", "--replication-factor", "1")
        for command in generate.acl_commands(acls, admin, None, tool="/opt/kafka/bin/kafka-acls.sh"):
            _run(kafka, *command)

        settings = ServiceSettings(
            service_name="matching", partnership_id=partnership, org_id="red-cross",
            kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="matching.red-cross", kafka_sasl_password=password,
        )

        async def write(topic: str) -> None:
            producer = AIOKafkaProducer(bootstrap_servers=f"localhost:{port}", acks="all", request_timeout_ms=15000,
                                        **kafka_client_options(settings))
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"{}", key=b"k")
            finally:
                await producer.stop()

        asyncio.run(write(ours))
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(write(theirs))
