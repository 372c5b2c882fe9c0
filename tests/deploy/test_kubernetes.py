"""deploy/k8s: bases and overlays render, every object validates against the
Kubernetes API schema (kubernetes-validate, strict), probes and configuration
match what the services serve and read, and no secret is in git: the overlays'
Secrets come from gitignored files (secretGenerator), rendered here from the
committed `*.env.example` with test values (the `k8s_tree` fixture)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

KUBERNETES_VERSION = "1.32.0"
OVERLAYS = {
    "varde-kommune": {"referral", "journey", "notify", "matching"},
    "red-cross": {"matching"},
}


K8S = Path(__file__).resolve().parents[2] / "deploy/k8s"
SECRET_KEYS = {"DATABASE_URL", "KAFKA_SASL_PASSWORD", "SMTP_PASSWORD", "AUTH_CLIENT_SECRET"}
"""Settings that are secrets: in the overlays' secret files, never in a ConfigMap."""


@pytest.fixture(scope="module")
def rendered(k8s_tree, deploy) -> dict[str, list[dict]]:
    return {org: deploy.kustomize(k8s_tree / "overlays" / org) for org in OVERLAYS}


def of_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def secret_values(secret: dict) -> dict[str, str]:
    if "stringData" in secret:
        return dict(secret["stringData"])
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def environment(objects: list[dict], c: dict) -> dict[str, str]:
    """The environment a container gets from its envFrom sources, in order (later ones win)."""
    maps, secrets = of_kind(objects, "ConfigMap"), of_kind(objects, "Secret")
    env: dict[str, str] = {}
    for source in c["envFrom"]:
        if "configMapRef" in source:
            env.update(maps[source["configMapRef"]["name"]]["data"])
        else:
            env.update(secret_values(secrets[source["secretRef"]["name"]]))
    return env


def test_generated_bases_are_up_to_date(repo) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("k8s_bases", repo / "deploy/k8s/bases.py")
    bases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bases)
    for service in bases.SERVICES:
        for name, text in bases.render(service).items():
            path = repo / "deploy/k8s/base" / service / name
            assert path.read_text() == text, f"{path} is stale: run python deploy/k8s/bases.py"


@pytest.mark.parametrize("folder", sorted(str(p.parent.relative_to(K8S)) for p in K8S.rglob("kustomization.yaml")))
def test_every_object_validates_against_the_kubernetes_schema(k8s_tree, deploy, folder: str) -> None:
    objects = deploy.kustomize(k8s_tree / folder)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_misspelt_field(rendered) -> None:
    deployment = dict(of_kind(rendered["red-cross"], "Deployment")["matching"])
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container(broken)["readinesProbe"] = container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_python_rendering_equals_kubectl_kustomize_where_kubectl_exists(k8s_tree, rendered) -> None:
    """The renderer above (generators and their name suffixes included) is checked against
    the real kustomize when this machine has it; elsewhere the other tests still run on
    the Python rendering."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    for org, objects in rendered.items():
        out = subprocess.run([kubectl, "kustomize", str(k8s_tree / "overlays" / org)],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        real = [d for d in yaml.safe_load_all(out) if d]
        key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
        assert sorted(real, key=key) == sorted(objects, key=key), org


@pytest.mark.parametrize("org", sorted(OVERLAYS))
def test_each_organisation_runs_its_own_services_in_its_namespace(rendered, org: str) -> None:
    objects = rendered[org]
    assert set(of_kind(objects, "Deployment")) == OVERLAYS[org]
    assert set(of_kind(objects, "PodDisruptionBudget")) == OVERLAYS[org]
    assert set(of_kind(objects, "Service")) == OVERLAYS[org]
    for name, policy in of_kind(objects, "NetworkPolicy").items():
        pods = of_kind(objects, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= pods.items()
    assert set(of_kind(objects, "NetworkPolicy")) == OVERLAYS[org]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == org
        assert obj["metadata"]["labels"]["brobygger.org/org"] == org
    assert ("kafka-topics" in of_kind(objects, "Job")) is (org == "varde-kommune"), "one organisation operates the bus"


@pytest.mark.parametrize("org", sorted(OVERLAYS))
def test_probes_resources_and_disruption_budgets(rendered, built_services, org: str) -> None:
    objects = rendered[org]
    budgets = of_kind(objects, "PodDisruptionBudget")
    for name, deployment in of_kind(objects, "Deployment").items():
        c = container(deployment)
        port = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert c["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert c["startupProbe"]["httpGet"]["path"] == "/health/live", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert c[probe]["httpGet"]["port"] in port, f"{name}: {probe} names an unknown port"
        # the paths are routes the service really serves
        assert {"/health/live", "/health/ready", "/metrics"} <= built_services[name].routes
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], name
        assert c["resources"]["limits"]["memory"], name
        assert c["args"] == [name], f"{name} must run `python -m {name}`"
        pod = deployment["spec"]["template"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        budget = budgets[name]["spec"]
        assert budget["selector"]["matchLabels"] == selector
        assert deployment["spec"]["replicas"] > budget["minAvailable"], f"{name}: the budget would block every drain"


@pytest.mark.parametrize("org", sorted(OVERLAYS))
def test_configuration_is_settings_the_code_reads_and_complete(rendered, deploy, monkeypatch, org: str) -> None:
    from brobygger_runtime.auth import parse_trusted_issuers

    objects = rendered[org]
    maps = of_kind(objects, "ConfigMap")
    for name, deployment in of_kind(objects, "Deployment").items():
        c = container(deployment)
        env = environment(objects, c)
        explicit = {e["name"] for e in c.get("env", [])}
        unknown = (set(env) | explicit) - deploy.env_names(name)
        assert not unknown, f"{org}/{name}: {sorted(unknown)} are not settings of {name}"
        missing = deploy.required_settings(name) - set(env) - explicit
        assert not missing, f"{org}/{name} does not set {sorted(missing)}"
        settings = deploy.parse_settings(name, env, monkeypatch)
        assert settings.org_id == org and settings.partnership_id == "varde"
        assert settings.kafka_enable_idempotence is True and settings.kafka_ensure_topics is False
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.kafka_sasl_username == f"{name}.{org}", "each service of each organisation is its own principal"
        assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512" and settings.kafka_security_protocol == "SASL_SSL"
        assert str(settings.http_port) in {str(p["containerPort"]) for p in c["ports"]}
        # every issuer over https (no AUTH_PLAIN_HTTP_HOSTS here), each trusted for one organisation;
        # the service's own tokens come from its organisation's issuer, as its own client
        assert not settings.auth_plain_http_hosts
        trust = parse_trusted_issuers(settings.trusted_issuers, settings.auth_audience)
        assert trust.organisation_of(settings.auth_issuer) == org, f"{org}/{name}: AUTH_ISSUER is not {org}'s issuer"
        assert settings.auth_audience == "brobygger" and settings.auth_client_id == f"brobygger-{name}"
        assert settings.auth_client_secret
        # secrets stay out of ConfigMaps
        config_keys = {k for s in c["envFrom"] if "configMapRef" in s for k in maps[s["configMapRef"]["name"]]["data"]}
        assert not SECRET_KEYS & config_keys, f"{org}/{name}: {sorted(SECRET_KEYS & config_keys)} in a ConfigMap"


def test_every_organisation_trusts_the_same_issuers(rendered) -> None:
    """TRUSTED_ISSUERS is the partnership's: the same list, whoever runs the service."""
    seen = set()
    for org, objects in rendered.items():
        for deployment in of_kind(objects, "Deployment").values():
            seen.add(environment(objects, container(deployment))["TRUSTED_ISSUERS"])
    assert len(seen) == 1
    assert set(json.loads(seen.pop()).values()) == {"varde-kommune", "red-cross", "abf"}


def test_a_changed_setting_or_secret_rolls_the_pods(rendered) -> None:
    """Generated ConfigMaps and Secrets carry a hash of their content in their name, and
    the Deployments name them so: new content, a new pod template, a rolling update."""
    import re

    for org, objects in rendered.items():
        for name, deployment in of_kind(objects, "Deployment").items():
            refs = [s.get("configMapRef") or s.get("secretRef") for s in container(deployment)["envFrom"]]
            names = [r["name"] for r in refs]
            assert re.fullmatch(r"auth-settings-[a-z0-9]{10}", names[0]), f"{org}/{name}: {names}"
            assert names[1] == f"{name}-settings"
            assert re.fullmatch(rf"{name}-secrets-[a-z0-9]{{10}}", names[2]), f"{org}/{name}: {names}"


def test_topic_job_runs_the_cli_against_the_bus(rendered, deploy) -> None:
    objects = rendered["varde-kommune"]
    job = of_kind(objects, "Job")["kafka-topics"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["command"][0] == "brobygger"
    deploy.assert_cli_accepts(c["command"][1:])
    config = of_kind(objects, "ConfigMap")[c["envFrom"][0]["configMapRef"]["name"]]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"]
    # as the bus operator's principal, over SASL/SCRAM and TLS like every other client
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and config["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert config["KAFKA_SASL_USERNAME"] == "varde-bus-admin" and config["PARTNERSHIP_ID"] == "varde"
    assert "KAFKA_SASL_PASSWORD" in environment(objects, c)


@pytest.mark.parametrize("org", sorted(OVERLAYS))
def test_images_are_pinned_and_renamed_by_the_overlay(rendered, org: str) -> None:
    for obj in rendered[org]:
        if obj["kind"] in ("Deployment", "Job"):
            for c in obj["spec"]["template"]["spec"]["containers"]:
                name, _, tag = c["image"].rpartition(":")
                assert tag and tag != "latest" and tag[0].isdigit(), c["image"]
                assert name.endswith("/brobygger"), f"{c['image']}: the overlay's registry was not applied"


def test_notify_reaches_referral_with_a_token_of_its_organisation(rendered, deploy, monkeypatch) -> None:
    from urllib.parse import urlparse

    from brobygger_runtime.auth import parse_trusted_issuers

    objects = rendered["varde-kommune"]
    deployments = of_kind(objects, "Deployment")

    def settings(service: str):  # noqa: ANN202
        return deploy.parse_settings(service, environment(objects, container(deployments[service])), monkeypatch)

    notify, referral = settings("notify"), settings("referral")
    trust = parse_trusted_issuers(referral.trusted_issuers, referral.auth_audience)
    assert trust.organisation_of(notify.auth_issuer) == notify.org_id, "referral must trust notify's issuer for its org"
    assert notify.auth_audience == referral.auth_audience
    url = urlparse(notify.citizen_contact_url)
    service = of_kind(objects, "Service")[url.hostname]
    assert url.port in {p["port"] for p in service["spec"]["ports"]}


def test_no_secret_is_committed(repo, deploy) -> None:
    """No Secret object and no placeholder that would install (CHANGE-ME) in deploy/k8s; each
    overlay's secret sources are gitignored files beside a committed example without values."""
    for path in K8S.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".example", ".py"):
            assert "CHANGE-ME" not in path.read_text(), path
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            for doc in deploy.load_yaml_all(path):
                assert doc.get("kind") != "Secret", f"{path} holds a Secret: make it with secretGenerator"
    for org in OVERLAYS:
        sources = deploy.generator_sources(K8S / "overlays" / org)
        secret_sources = [p for p in sources if p.parent.name == "secrets"]
        operates_the_bus = org == "varde-kommune"  # the topic job's operator credential
        assert len(secret_sources) == len(OVERLAYS[org]) + operates_the_bus, org
        for source in secret_sources:
            ignored = subprocess.run(["git", "check-ignore", "-q", str(source)], cwd=repo)
            assert ignored.returncode == 0, f"{source} is not gitignored"
            tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(source)], cwd=repo, capture_output=True)
            assert tracked.returncode != 0, f"{source} is in git"
            example = source.with_name(source.name + ".example")
            assert subprocess.run(["git", "check-ignore", "-q", str(example)], cwd=repo).returncode == 1, example
            values = deploy.read_env_file(example)
            if source.name == "kafka-topics.env":
                assert set(values) == {"KAFKA_SASL_PASSWORD"} and values["KAFKA_SASL_PASSWORD"] == "", example
                continue
            assert {"DATABASE_URL", "KAFKA_SASL_PASSWORD", "AUTH_CLIENT_SECRET"} <= set(values), example
            for key, value in values.items():
                if key == "DATABASE_URL":
                    from urllib.parse import urlparse

                    assert urlparse(value).password == "<password>", f"{example}: {key} has a password"
                elif key in SECRET_KEYS:
                    assert value == "", f"{example}: {key} has a value"


def test_an_overlay_does_not_render_without_its_secret_files(tmp_path, deploy) -> None:
    """`kubectl apply -k` fails while a secret file is missing: nothing is installed
    with a placeholder instead."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("*.env", "__pycache__"))
    for org in OVERLAYS:
        with pytest.raises(FileNotFoundError, match=r"secrets/\w+\.env"):
            deploy.kustomize(tree / "overlays" / org)
        kubectl = shutil.which("kubectl")
        if kubectl is not None:
            done = subprocess.run([kubectl, "kustomize", str(tree / "overlays" / org)],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode != 0 and ".env" in done.stderr, done.stderr
