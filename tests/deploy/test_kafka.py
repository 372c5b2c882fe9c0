"""deploy/kafka: topic definitions, ACLs and the init job's script are
generated from the catalogue and the partnership's organisations (and are
current); the ACLs, evaluated here as Kafka's StandardAuthorizer would (default
deny, literal and prefixed patterns), let each service of each organisation
write only its own topics and read only what its handlers consume."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from brobygger_contracts import parse_topic, partnership_topics
from brobygger_contracts.catalogue import SERVICES, dead_letter_topic, retention_ms, topic_of_service
from brobygger_stack.partnership import Partnership


@pytest.fixture(scope="module")
def generate(repo):  # noqa: ANN001, ANN201
    spec = importlib.util.spec_from_file_location("deploy_kafka_generate", repo / "deploy/kafka/generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def partnership() -> Partnership:
    return Partnership.load()


@pytest.fixture(scope="module")
def topics(repo, deploy) -> dict:
    return deploy.load_yaml(repo / "deploy/kafka/topics.yaml")


@pytest.fixture(scope="module")
def acls(repo, deploy) -> dict:
    return deploy.load_yaml(repo / "deploy/kafka/acls.yaml")


def test_the_committed_files_are_what_the_generator_writes(repo, generate, partnership) -> None:
    for name, text in generate.render(partnership).items():
        assert (repo / "deploy/kafka" / name).read_text() == text, f"deploy/kafka/{name} is stale: run generate.py"


def test_topics_are_the_partnerships(topics, partnership) -> None:
    names = [t["name"] for t in topics["topics"]]
    assert len(names) == len(set(names))
    assert names == partnership_topics(partnership.id, partnership.runs)
    assert topics["partnership"] == partnership.id


def test_each_topic_names_its_one_publisher(topics, partnership) -> None:
    for topic in topics["topics"]:
        name = parse_topic(topic["name"])
        assert name is not None and name.partnership == partnership.id, topic["name"]
        if name.is_dead_letter:
            continue
        assert topic["publisher"] == {"service": name.service, "org": name.org}
        assert name.service in partnership.runs[name.org]


def test_retention_is_the_catalogues(topics) -> None:
    """Dead letters (whole payloads) go after 14 days; events stay as long as the outboxes keep them."""
    for topic in topics["topics"]:
        assert int(topic["config"]["retention.ms"]) == retention_ms(topic["name"]), topic["name"]
    assert retention_ms("brobygger.varde.referral.varde-kommune.v1.dlt") == 14 * 24 * 3600 * 1000


def test_topics_survive_a_broker_loss(topics) -> None:
    defaults = topics["defaults"]
    assert defaults["replication_factor"] > int(defaults["config"]["min.insync.replicas"]) >= 2
    for topic in topics["topics"]:
        assert topic["partitions"] >= 1


# --- the ACLs, evaluated ---------------------------------------------------------------------

IMPLIES_DESCRIBE = {"Read", "Write", "Delete", "Alter"}


def allowed(spec: dict, principal: str, operation: str, resource: str, name: str) -> bool:
    """Kafka's StandardAuthorizer with allow.everyone.if.no.acl.found=false and
    allow ACLs only: an operation is allowed when an ACL of the principal on a
    matching resource (literal: equal; prefixed: starts with) grants it (Read,
    Write, Delete and Alter also grant Describe); otherwise denied."""
    for holder in spec["principals"] + spec["operators"]:
        if holder["principal"] != principal:
            continue
        for acl in holder["acls"]:
            if acl["resource"] != resource:
                continue
            matches = name == acl["name"] if acl["pattern"] == "literal" else name.startswith(acl["name"])
            granted = set(acl["operations"])
            if matches and ("All" in granted or operation in granted
                            or (operation == "Describe" and granted & IMPLIES_DESCRIBE)):
                return True
    return False


def every_topic(partnership: Partnership) -> list[str]:
    """The partnership's topics, one of an organisation that joins later, and another partnership's."""
    joined = dict(partnership.runs) | {"newcomer": tuple(SERVICES)}
    return partnership_topics(partnership.id, joined) + partnership_topics("other", joined)


def test_every_service_of_every_organisation_has_its_own_principal(acls, partnership) -> None:
    expected = sorted(f"User:{service}.{org}" for org, services in partnership.runs.items() for service in services)
    assert sorted(p["principal"] for p in acls["principals"]) == expected
    for p in acls["principals"]:
        assert p["principal"] == f"User:{p['service']}.{p['org']}"


def test_no_principal_can_write_a_topic_of_another_organisation_or_service(acls, partnership) -> None:
    for p in acls["principals"]:
        for topic in every_topic(partnership):
            name = parse_topic(topic)
            own = (name.partnership, name.service, name.org) == (partnership.id, p["service"], p["org"])
            if not name.is_dead_letter:
                assert allowed(acls, p["principal"], "Write", "topic", topic) is own, (p["principal"], topic)


def test_each_principal_reads_what_its_handlers_consume_and_dead_letters_beside_it(acls, partnership, generate,
                                                                                   built_services) -> None:
    for p in acls["principals"]:
        service, org = p["service"], p["org"]
        consumed = built_services[service].consumed_services
        assert set(generate.CONSUMES[service]) == consumed, service
        for topic in every_topic(partnership):
            name = parse_topic(topic)
            ours = name.partnership == partnership.id
            own = ours and (name.service, name.org) == (service, org)
            reads = ours and name.service in consumed and not name.is_dead_letter
            if not name.is_dead_letter:
                assert allowed(acls, p["principal"], "Read", "topic", topic) is (reads or own), (p["principal"], topic)
            elif name.org != "newcomer":  # a newcomer's .dlt comes with the ACLs regenerated for it
                writes = ours and (name.service in consumed or (name.service, name.org) == (service, org))
                assert allowed(acls, p["principal"], "Write", "topic", topic) is writes, (p["principal"], topic)
            assert not allowed(acls, p["principal"], "Create", "topic", topic)
            assert not allowed(acls, p["principal"], "Delete", "topic", topic)
        own_group = f"{partnership.id}.{org}.{service}"
        assert allowed(acls, p["principal"], "Read", "group", own_group)
        for other_org in [*partnership.runs, "newcomer"]:
            for other in SERVICES:
                if (other_org, other) != (org, service):
                    assert not allowed(acls, p["principal"], "Read", "group", f"{partnership.id}.{other_org}.{other}")
        assert not allowed(acls, p["principal"], "Alter", "cluster", "kafka-cluster")
        # Red Cross's matching may not speak for the municipality's referral
    red_cross = "User:matching.red-cross"
    assert not allowed(acls, red_cross, "Write", "topic", topic_of_service("referral", partnership.id, "varde-kommune"))
    assert allowed(acls, red_cross, "Write", "topic", topic_of_service("matching", partnership.id, "red-cross"))


def test_the_group_is_the_one_the_service_joins(acls) -> None:
    from brobygger_runtime.settings import ServiceSettings

    for p in acls["principals"]:
        settings = ServiceSettings(service_name=p["service"], partnership_id=acls["partnership"], org_id=p["org"])
        (group,) = [a["name"] for a in p["acls"] if a["resource"] == "group"]
        assert settings.group_id == group


def test_acls_match_who_runs_what_in_compose_and_kubernetes(acls, compose, k8s_tree, deploy) -> None:
    runs: dict[str, set[str]] = {}
    for p in acls["principals"]:
        runs.setdefault(p["org"], set()).add(p["service"])
    in_compose: dict[str, set[str]] = {}
    for svc in compose["services"].values():
        if svc.get("image", "").startswith("brobygger:") and "ORG_ID" in svc.get("environment", {}):
            in_compose.setdefault(svc["environment"]["ORG_ID"], set()).add(svc["command"][0])
    assert in_compose == runs
    for org, services in runs.items():
        deployments = {o["metadata"]["name"] for o in deploy.kustomize(k8s_tree / "overlays" / org)
                       if o["kind"] == "Deployment"}
        assert deployments == services, org


def test_the_bus_operator_can_create_topics_and_replay_dead_letters(acls, partnership) -> None:
    (operator,) = acls["operators"]
    principal = operator["principal"]
    for topic in partnership_topics(partnership.id, partnership.runs):
        assert allowed(acls, principal, "Create", "topic", topic) and allowed(acls, principal, "Write", "topic", topic)
    assert not allowed(acls, principal, "Write", "topic", dead_letter_topic(topic_of_service("referral", "other", "varde-kommune")))
    assert allowed(acls, principal, "Describe", "group", f"{partnership.id}.red-cross.matching")


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


def test_the_init_script_creates_every_principal_topic_and_acl(repo, acls, topics, generate) -> None:
    script = (repo / "deploy/kafka/init.sh").read_text()
    assert script.startswith("#!/bin/bash") and "set -euo pipefail" in script
    for holder in acls["principals"] + acls["operators"]:
        user = holder["principal"].removeprefix("User:")
        assert f"--entity-name {user} --add-config \"SCRAM-SHA-512=[password=${{{generate.password_variable(user)}:?" in script
    for topic in topics["topics"]:
        assert f"--topic {topic['name']} " in script
    assert script.count("kafka-acls.sh") == sum(len(h["acls"]) for h in acls["principals"] + acls["operators"])
