"""docker-compose.yml: valid Compose, pinned images, health checks, each
service's environment exactly the settings its code reads, and secrets only
from `.env` (`${NAME:?...}`). The `compose` fixture is the file as compose
runs it, interpolated with a test value for each variable of env.example;
Keycloak and its realms are checked in test_keycloak_realms.py."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import jsonschema
import yaml
import pytest

# An exact version: 1.2, 1.2.3, v1.2.3, optionally with a variant (-slim-bookworm), or a digest.
PINNED = re.compile(r"^[\w./-]+(:v?\d+\.\d+(\.\d+)?([-.][\w.-]+)?)(@sha256:[0-9a-f]{64})?$|^[\w./-]+@sha256:[0-9a-f]{64}$")


def brobygger_containers(compose: dict) -> dict[str, dict]:
    """Compose services that run one of our event-driven packages (`python -m <service>`); not the web
    console, which has no broker and no database (test_the_console_container below)."""
    return {name: svc for name, svc in compose["services"].items()
            if svc.get("image", "").startswith("brobygger:") and "entrypoint" not in svc
            and svc.get("command") != ["console"]}


def test_compose_file_is_valid_against_the_compose_specification(repo, compose) -> None:
    schema = json.loads((repo / "tests/deploy/compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_misspelt_key(repo, compose) -> None:
    """The vendored schema is strict: a typo in a service is an error, not ignored."""
    schema = json.loads((repo / "tests/deploy/compose-spec.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["referral"]["helthcheck"] = broken["services"]["referral"].pop("healthcheck", {})
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_every_image_is_pinned_to_an_exact_version(compose) -> None:
    for name, svc in compose["services"].items():
        image = svc.get("image")
        assert image, f"{name} has no image reference"
        assert PINNED.match(image), f"{name}: {image} is not pinned to an exact version"
        assert ":latest" not in image


@pytest.mark.parametrize("image,pinned", [
    ("apache/kafka:3.9.0", True), ("postgres:16.4-bookworm", True), ("axllent/mailpit:v1.20.0", True),
    ("python@sha256:" + "a" * 64, True), ("postgres", False), ("grafana/grafana:latest", False),
    ("postgres:16", False), ("prom/prometheus:main", False),
])
def test_the_pin_rule_itself(image: str, pinned: bool) -> None:
    assert bool(PINNED.match(image)) is pinned


def test_every_container_has_a_health_check_and_waits_for_what_it_needs(compose) -> None:
    services = compose["services"]
    for name, svc in services.items():
        check = svc.get("healthcheck")
        assert check, f"{name} has no health check"
        if check.get("disable"):
            # only a one-shot job may go without: nothing waits for it to be healthy
            assert svc.get("restart") == "no", f"{name} disables its health check but is not a one-shot job"
            waiting = [other for other, s in services.items()
                       if s.get("depends_on", {}).get(name, {}).get("condition") == "service_healthy"]
            assert waiting == []
        else:
            assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        for dependency, condition in svc.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in ("service_healthy", "service_completed_successfully"), (name, dependency)


def test_services_start_after_kafka_postgres_keycloak_and_the_topic_job(compose) -> None:
    containers = brobygger_containers(compose)
    assert sorted(svc["command"][0] for svc in containers.values()) == ["journey", "matching", "matching", "notify", "referral"]
    for name, svc in containers.items():
        deps = svc["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["topics"]["condition"] == "service_completed_successfully", name
        assert deps["keycloak"]["condition"] == "service_healthy", name
    assert compose["services"]["notify"]["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_two_matching_instances_for_two_organisations(compose) -> None:
    matching = [svc["environment"] for svc in brobygger_containers(compose).values() if svc["command"] == ["matching"]]
    assert sorted(env["ORG_ID"] for env in matching) == ["red-cross", "varde-kommune"]
    assert len({env["DATABASE_URL"] for env in matching}) == 2


def test_environment_keys_are_settings_the_code_reads(compose, deploy, monkeypatch) -> None:
    for name, svc in brobygger_containers(compose).items():
        service = svc["command"][0]
        env = svc["environment"]
        unknown = set(env) - deploy.env_names(service)
        assert not unknown, f"{name} sets {sorted(unknown)}, which {service}'s Settings does not read"
        missing = deploy.required_settings(service) - set(env)
        assert not missing, f"{name} does not set {sorted(missing)}"
        # and the values parse into the settings the service will run with
        settings = deploy.parse_settings(service, env, monkeypatch)
        assert settings.service_name == service
        assert settings.kafka_enable_idempotence is True, f"{name}: Apache Kafka serves idempotent producers"
        assert settings.kafka_ensure_topics is False, f"{name}: the topics job creates topics"
        assert settings.database_url.startswith("postgresql+asyncpg://"), name
        assert settings.http_host == "0.0.0.0", f"{name} must listen beyond loopback"
        assert settings.auth_plain_http_hosts == "keycloak", f"{name}: plain http for compose's Keycloak only"


def test_settings_drive_the_health_check_and_ports(compose, deploy, monkeypatch) -> None:
    for name, svc in brobygger_containers(compose).items():
        settings = deploy.parse_settings(svc["command"][0], svc["environment"], monkeypatch)
        assert f"127.0.0.1:{settings.http_port}/health/ready" in " ".join(svc["healthcheck"]["test"]), name
        assert all(str(p).endswith(f":{settings.http_port}") for p in svc.get("ports", [])), name
        bootstrap = settings.kafka_bootstrap_servers.split(",")
        advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        assert all(f"//{b}" in advertised for b in bootstrap), f"{name}: {bootstrap} is not a listener Kafka advertises"


def test_each_service_instance_has_its_own_database_created_at_init(compose, deploy, monkeypatch, repo) -> None:
    postgres = compose["services"]["postgres"]
    created = postgres["environment"]["BROBYGGER_DATABASES"].split()
    assert any("postgres-init.sh:/docker-entrypoint-initdb.d/" in v for v in postgres["volumes"])
    assert "for name in $BROBYGGER_DATABASES" in (repo / "deploy/compose/postgres-init.sh").read_text()
    used = []
    for name, svc in brobygger_containers(compose).items():
        url = urlparse(svc["environment"]["DATABASE_URL"])
        database = url.path.lstrip("/")
        assert url.hostname == "postgres" and url.port == 5432, name
        assert url.username == database, f"{name}: each database is owned by its own role"
        assert url.password == postgres["environment"]["BROBYGGER_DB_PASSWORD"], name
        used.append(database)
    assert len(used) == len(set(used)), "two service instances share a database"
    assert sorted(used) == sorted(created)
    # healthy only once the init script created the last database
    assert f"-d {created[-1]} " in " ".join(postgres["healthcheck"]["test"])


def test_kafka_runs_in_kraft_mode_without_auto_created_topics(compose) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in " ".join(env).upper()
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["CLUSTER_ID"]


def kafka_ca(directory):  # noqa: ANN001, ANN201
    """deploy/compose/make_certs.py's CA certificate, made in `directory`."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "deploy/compose/make_certs.py"
    spec = importlib.util.spec_from_file_location("make_certs", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(directory)
    return directory / "ca.pem"


def test_the_init_job_runs_the_generated_script_with_every_principals_password(compose, raw_compose, repo) -> None:
    job = compose["services"]["topics"]
    assert job["image"] == compose["services"]["kafka"]["image"] and job["restart"] == "no"
    assert job["entrypoint"] == ["/bin/bash", "/init/init.sh"]
    assert "./deploy/kafka/init.sh:/init/init.sh:ro" in job["volumes"]
    script = (repo / "deploy/kafka/init.sh").read_text()
    needed = set(re.findall(r"\$\{(KAFKA_[A-Z_]+_PASSWORD):\?", script))
    assert needed and needed <= set(job["environment"])
    raw = raw_compose["services"]["topics"]["environment"]
    assert all(raw[name] == f"${{{name}:?set it in .env; see deploy/README.md}}" for name in needed)
    assert job["environment"]["KAFKA_INIT_BOOTSTRAP"] == "kafka:9094"


def test_every_client_listener_requires_sasl_over_tls_and_the_rest_a_client_certificate(compose) -> None:
    env = compose["services"]["kafka"]["environment"]
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    assert set(protocols) == listeners
    internal = {env["KAFKA_CONTROLLER_LISTENER_NAMES"], env["KAFKA_INTER_BROKER_LISTENER_NAME"]}
    for listener, protocol in protocols.items():
        if listener in internal:
            assert protocol == "SSL", listener
            assert env[f"KAFKA_LISTENER_NAME_{listener}_SSL_CLIENT_AUTH"] == "required", listener
        else:
            assert protocol == "SASL_SSL", f"{listener} lets clients in without SASL over TLS"
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:kafka-broker", "User:bus-init"}
    # services connect to a SASL_SSL listener the broker advertises
    advertised = dict(reversed(item.split("://")) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    for name, svc in brobygger_containers(compose).items():
        service_env = svc["environment"]
        assert protocols[advertised[service_env["KAFKA_BOOTSTRAP_SERVERS"]]] == "SASL_SSL", name
        assert service_env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and service_env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_every_service_instance_is_its_own_principal_with_its_own_password(compose, raw_compose, repo) -> None:
    acls = yaml.safe_load((repo / "deploy/kafka/acls.yaml").read_text())
    principals = {p["principal"].removeprefix("User:") for p in acls["principals"]}
    used, passwords = [], []
    for name, svc in brobygger_containers(compose).items():
        env, raw = svc["environment"], raw_compose["services"][name]["environment"]
        assert env["KAFKA_SASL_USERNAME"] == f"{svc['command'][0]}.{env['ORG_ID']}", name
        assert raw["KAFKA_SASL_PASSWORD"].startswith("${KAFKA_") and ":?" in raw["KAFKA_SASL_PASSWORD"], name
        used.append(env["KAFKA_SASL_USERNAME"])
        passwords.append(raw["KAFKA_SASL_PASSWORD"])
    assert sorted(used) == sorted(principals)
    assert len(set(passwords)) == len(passwords), "two instances share a Kafka password"


def test_prometheus_and_grafana_get_their_files_from_deploy(compose, repo) -> None:
    mounts = compose["services"]["prometheus"]["volumes"] + compose["services"]["grafana"]["volumes"]
    for mount in mounts:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (repo / source).exists(), f"{source} is mounted but missing"
    assert any(m.startswith("./deploy/prometheus/alerts.yml:") for m in mounts)
    assert any(m.startswith("./deploy/grafana/dashboards:") for m in mounts)


def test_each_container_environment_builds_its_service(compose, deploy, monkeypatch, tmp_path) -> None:
    """The composition root accepts the settings (API keys, rules, SMTP...): built, not started."""
    import importlib

    ca = kafka_ca(tmp_path)
    for name, svc in brobygger_containers(compose).items():
        service = svc["command"][0]
        # the CA file the container mounts, made here as deploy/compose/make_certs.py makes it
        settings = deploy.parse_settings(service, {**svc["environment"], "KAFKA_SSL_CAFILE": str(ca)}, monkeypatch)
        runtime, app = importlib.import_module(f"{service}.bootstrap").build(settings)
        assert runtime.settings.group_id == f"varde.{settings.org_id}.{service}", name
        assert "/health/ready" in {getattr(r, "path", "") for r in app.routes}


@pytest.mark.parametrize("status,healthy", [(200, True), (503, False)])
def test_service_health_check_asks_health_ready(compose, deploy, status: int, healthy: bool) -> None:
    """Run each service container's health check command against a local server on a free port."""
    import subprocess
    import sys

    for name, svc in brobygger_containers(compose).items():
        kind, program, *args = svc["healthcheck"]["test"]
        assert kind == "CMD" and program == "python", name
        with deploy.health_server("/health/ready", status) as port:
            args = [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in args]
            done = subprocess.run([sys.executable, *args], capture_output=True, timeout=30)
        assert (done.returncode == 0) is healthy, f"{name}: {done.stderr.decode()}"


def test_notify_reaches_referral_with_a_token_of_its_organisation(compose, deploy, monkeypatch) -> None:
    from brobygger_runtime.auth import parse_trusted_issuers
    from brobygger_runtime.auth.trust import parse_host_list

    services = compose["services"]
    notify = deploy.parse_settings("notify", services["notify"]["environment"], monkeypatch)
    referral = deploy.parse_settings("referral", services["referral"]["environment"], monkeypatch)
    trust = parse_trusted_issuers(referral.trusted_issuers, referral.auth_audience,
                                  plain_http_hosts=parse_host_list(referral.auth_plain_http_hosts))
    assert trust.organisation_of(notify.auth_issuer) == notify.org_id, "referral must trust notify's issuer for its org"
    assert notify.auth_client_id == "brobygger-notify" and notify.auth_client_secret
    url = urlparse(notify.citizen_contact_url)
    assert (url.hostname, url.port) == ("referral", referral.http_port)


def test_secrets_come_from_env_and_a_missing_one_stops_compose(raw_compose, deploy) -> None:
    """Every variable is `${NAME:?...}` (compose fails while it is unset or empty), and
    env.example lists exactly the variables the file reads, with no value."""
    variables = deploy.compose_variables(raw_compose)
    assert variables, "docker-compose.yml reads no variable"
    loose = {name: op for name, op in variables.items() if op != ":?"}
    assert not loose, f"{sorted(loose)} would start with an empty value: write ${{NAME:?...}}"
    example = deploy.env_example_names()
    assert set(example) == set(variables), (
        f"env.example lacks {sorted(set(variables) - set(example))}, lists unused {sorted(set(example) - set(variables))}")
    assert all(value == "" for value in example.values()), "env.example holds values: it must not"
    for name in variables:
        env = deploy.compose_test_env()
        del env[name]
        with pytest.raises(deploy.MissingVariable, match=name):
            deploy.interpolate(raw_compose, env)


def test_no_secret_is_written_in_the_file(raw_compose) -> None:
    """Passwords, client secrets and connection URLs with a password come only from variables."""
    for name, svc in raw_compose["services"].items():
        env = svc.get("environment", {})
        for key, value in env.items():
            value = str(value)
            if any(word in key for word in ("PASSWORD", "SECRET", "API_KEY", "TOKEN")):
                assert value.startswith("${") and value.endswith("}"), f"{name}: {key} is written in the file"
            if key == "DATABASE_URL":
                password = value.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
                assert password.startswith("${") and password.endswith("}"), f"{name}: {key} holds a password"
        assert "API_KEYS" not in env, f"{name}: API_KEYS is gone; services take bearer tokens"


def test_make_secrets_writes_every_variable_and_keeps_existing_values(repo, deploy, raw_compose, tmp_path) -> None:
    import importlib.util
    import stat

    spec = importlib.util.spec_from_file_location("make_secrets", repo / "deploy/compose/make_secrets.py")
    make_secrets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_secrets)
    out = tmp_path / ".env"
    out.write_text("POSTGRES_PASSWORD=kept-as-it-was\n")
    added = make_secrets.make(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = make_secrets.read_env(out)
    assert values["POSTGRES_PASSWORD"] == "kept-as-it-was" and "POSTGRES_PASSWORD" not in added
    assert set(values) == set(deploy.env_example_names())
    for name, value in values.items():
        assert len(value) >= 14 and not set(value) & set("$'\" #\\"), f"{name}: {value!r}"
    assert len(set(values.values())) == len(values), "every secret differs"
    assert make_secrets.make(out) == [] and make_secrets.read_env(out) == values, "a second run changes nothing"
    deploy.interpolate(raw_compose, values)  # compose starts with it


def test_keycloak_health_check_asks_the_management_port(compose, deploy) -> None:
    """Run Keycloak's health check (bash only: the image has no curl) against a local server."""
    import subprocess

    kind, program, flag, script = compose["services"]["keycloak"]["healthcheck"]["test"]
    assert (kind, program, flag) == ("CMD", "bash", "-c")
    assert "/dev/tcp/127.0.0.1/9000" in script and "/health/ready" in script
    for status, healthy in ((200, True), (503, False)):
        with deploy.health_server("/health/ready", status) as port:
            done = subprocess.run(["bash", "-c", script.replace("/9000", f"/{port}")], capture_output=True, timeout=30)
        assert (done.returncode == 0) is healthy, (status, done.stderr.decode())
    done = subprocess.run(["bash", "-c", script.replace("/9000", "/1")], capture_output=True, timeout=30)
    assert done.returncode != 0, "nothing listening must be unhealthy"


def test_the_console_container_reaches_the_services_and_trusts_the_same_issuers(compose, monkeypatch) -> None:
    """The web console: the same image, its own settings, every URL it calls a container of this file."""
    from console.app import build
    from console.settings import ConsoleSettings

    console = compose["services"]["console"]
    assert console["command"] == ["console"]
    for key, value in console["environment"].items():
        monkeypatch.setenv(key, value)
    settings = ConsoleSettings()
    assert set(console["environment"]) <= {name.upper() for name in ConsoleSettings.model_fields}
    services = compose["services"]
    for url in (settings.referral_url, settings.journey_url, *settings.matching().values()):
        assert urlparse(url).hostname in services, url
    assert settings.trusted_issuers == services["referral"]["environment"]["TRUSTED_ISSUERS"]
    assert f"127.0.0.1:{settings.http_port}/health/ready" in " ".join(console["healthcheck"]["test"])
    assert sorted(settings.matching()) == ["red-cross", "varde-kommune"]
    _runtime, app = build(settings)
    assert "/health/ready" in {getattr(r, "path", "") for r in app.routes}
    # its own client for the public referral page: the secret Keycloak's realm fills that client's from
    assert settings.auth_client_id == "brobygger-console"
    assert settings.auth_issuer == "http://keycloak:8080/realms/" + settings.org_id
    assert "VARDE_KOMMUNE_CONSOLE_CLIENT_SECRET" in compose["services"]["keycloak"]["environment"]
