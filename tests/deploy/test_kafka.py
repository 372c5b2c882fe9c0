"""deploy/kafka: topic definitions equal the catalogue; each organisation's
ACLs are exactly what its services need, derived from their registered handlers."""

from __future__ import annotations

import pytest

from brobygger_contracts import all_topics
from brobygger_contracts.catalogue import EVENTS, dead_letter_topic, retention_ms, topic_for, topic_of_service


@pytest.fixture(scope="module")
def topics(repo, deploy) -> dict:
    return deploy.load_yaml(repo / "deploy/kafka/topics.yaml")


@pytest.fixture(scope="module")
def acls(repo, deploy) -> dict:
    return deploy.load_yaml(repo / "deploy/kafka/acls.yaml")


def test_topics_are_exactly_the_catalogues(topics) -> None:
    names = [t["name"] for t in topics["topics"]]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(all_topics())


def test_each_topic_names_its_one_publishing_service(topics) -> None:
    """Which event types go where stays in the catalogue alone (contracts/)."""
    for topic in topics["topics"]:
        if topic["name"].endswith(".dlt"):
            assert topic["name"][:-4] in all_topics()
            continue
        assert topic["name"] == topic_of_service(topic["publisher"])
        assert any(topic_for(c) == topic["name"] for c in EVENTS)


def test_retention_is_the_catalogues(topics) -> None:
    """Dead letters (whole payloads) go after 14 days; events stay as long as the outboxes keep them."""
    for topic in topics["topics"]:
        assert int(topic["config"]["retention.ms"]) == retention_ms(topic["name"]), topic["name"]
    assert retention_ms("brobygger.referral.v1.dlt") == 14 * 24 * 3600 * 1000


def test_topics_survive_a_broker_loss(topics) -> None:
    defaults = topics["defaults"]
    assert defaults["replication_factor"] > int(defaults["config"]["min.insync.replicas"]) >= 2
    for topic in topics["topics"]:
        assert topic["partitions"] >= 1


def grants(principal: dict, resource: str, operation: str, pattern: str = "literal") -> set[str]:
    return {a["name"] for a in principal["acls"]
            if a["resource"] == resource and a["pattern"] == pattern and operation in a["operations"]}


def test_each_organisation_may_do_exactly_what_its_services_need(acls, built_services) -> None:
    partnership = acls["partnership"]
    for principal in acls["principals"]:
        org, services = principal["org"], principal["services"]
        assert principal["principal"] == f"User:{org}"
        consumed = set().union(*(built_services[s].consumed_topics for s in services))
        own = {topic_of_service(s) for s in services}
        assert grants(principal, "topic", "Write") == own | {dead_letter_topic(t) for t in consumed}, org
        assert grants(principal, "topic", "Read") == consumed, org
        assert not grants(principal, "topic", "Write", "prefixed") and not grants(principal, "topic", "Read", "prefixed")
        assert not grants(principal, "topic", "Create") and not grants(principal, "topic", "Create", "prefixed")
        assert grants(principal, "group", "Read", "prefixed") == {f"{partnership}.{org}."}
        assert grants(principal, "cluster", "IdempotentWrite") == {"kafka-cluster"}


def test_the_group_prefix_covers_every_service_group(acls, deploy, monkeypatch) -> None:
    for principal in acls["principals"]:
        for service in principal["services"]:
            settings = deploy.parse_settings(
                service, {"PARTNERSHIP_ID": acls["partnership"], "ORG_ID": principal["org"]}, monkeypatch)
            prefix = f"{acls['partnership']}.{principal['org']}."
            assert settings.group_id.startswith(prefix), settings.group_id
            # the prefix cannot also match another organisation whose name extends this one
            assert settings.group_id == prefix + service


def test_acls_match_who_runs_what_in_compose_and_kubernetes(acls, compose, k8s_tree, deploy) -> None:
    runs = {p["org"]: set(p["services"]) for p in acls["principals"]}
    in_compose: dict[str, set[str]] = {}
    for svc in compose["services"].values():
        if svc.get("image", "").startswith("brobygger:") and "ORG_ID" in svc.get("environment", {}):
            in_compose.setdefault(svc["environment"]["ORG_ID"], set()).add(svc["command"][0])
    assert in_compose == runs
    for org, services in runs.items():
        deployments = {o["metadata"]["name"] for o in deploy.kustomize(k8s_tree / "overlays" / org)
                       if o["kind"] == "Deployment"}
        assert deployments == services, org


def test_the_bus_operator_can_create_topics_and_replay_dead_letters(acls) -> None:
    (operator,) = acls["operators"]
    assert grants(operator, "topic", "Create", "prefixed") == {"brobygger."}
    assert all(t.startswith("brobygger.") for t in all_topics())
    assert grants(operator, "topic", "Write", "prefixed") == {"brobygger."}
    assert grants(operator, "group", "Describe", "prefixed") == {f"{acls['partnership']}."}


# Operations Kafka's authorizer accepts per resource type (Kafka documentation, "Operations and Resources").
VALID_OPERATIONS = {
    "topic": {"Read", "Write", "Create", "Delete", "Alter", "Describe", "DescribeConfigs", "AlterConfigs"},
    "group": {"Read", "Describe", "Delete"},
    "cluster": {"Create", "Alter", "Describe", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite"},
}


def test_every_acl_names_an_operation_kafka_knows_for_its_resource(acls) -> None:
    for holder in acls["principals"] + acls["operators"]:
        for acl in holder["acls"]:
            assert acl["pattern"] in ("literal", "prefixed")
            assert set(acl["operations"]) <= VALID_OPERATIONS[acl["resource"]], (holder["principal"], acl)
            if acl["resource"] == "cluster":
                assert acl["name"] == "kafka-cluster" and acl["pattern"] == "literal"


def test_acls_script_prints_one_kafka_acls_command_per_binding(repo, acls) -> None:
    import shlex
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(repo / "deploy/kafka/acls.py"), "--bootstrap", "bus:9093",
                          "--command-config", "admin.properties"], capture_output=True, text=True, check=True, timeout=60)
    lines = [shlex.split(line) for line in out.stdout.splitlines()]
    entries = [(h["principal"], a) for h in acls["principals"] + acls["operators"] for a in h["acls"]]
    assert len(lines) == len(entries)
    for words, (principal, acl) in zip(lines, entries, strict=True):
        assert words[:5] == ["kafka-acls.sh", "--bootstrap-server", "bus:9093", "--command-config", "admin.properties"]
        assert words[words.index("--allow-principal") + 1] == principal
        assert [words[i + 1] for i, w in enumerate(words) if w == "--operation"] == acl["operations"]
        assert words[words.index("--resource-pattern-type") + 1] == acl["pattern"]
        if acl["resource"] != "cluster":
            assert words[words.index(f"--{acl['resource']}") + 1] == acl["name"]
