"""deploy/k8s: bases and overlays render, every object validates against the
Kubernetes API schema (kubernetes-validate, strict), probes and configuration
match what the services serve and read."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def rendered(repo, deploy) -> dict[str, list[dict]]:
    return {org: deploy.kustomize(repo / "deploy/k8s/overlays" / org) for org in OVERLAYS}


def of_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_generated_bases_are_up_to_date(repo) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("k8s_bases", repo / "deploy/k8s/bases.py")
    bases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bases)
    for service in bases.SERVICES:
        for name, text in bases.render(service).items():
            path = repo / "deploy/k8s/base" / service / name
            assert path.read_text() == text, f"{path} is stale: run python deploy/k8s/bases.py"


@pytest.mark.parametrize("folder", sorted(
    str(p.parent.relative_to(Path(__file__).resolve().parents[2]))
    for p in (Path(__file__).resolve().parents[2] / "deploy/k8s").rglob("kustomization.yaml")))
def test_every_object_validates_against_the_kubernetes_schema(repo, deploy, folder: str) -> None:
    objects = deploy.kustomize(repo / folder)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_misspelt_field(rendered) -> None:
    deployment = dict(of_kind(rendered["red-cross"], "Deployment")["matching"])
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container(broken)["readinesProbe"] = container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_python_rendering_equals_kubectl_kustomize_where_kubectl_exists(repo, deploy, rendered) -> None:
    """The renderer above is checked against the real kustomize when this machine has it;
    elsewhere the other tests still run on the Python rendering."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    for org, objects in rendered.items():
        out = subprocess.run([kubectl, "kustomize", str(repo / "deploy/k8s/overlays" / org)],
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
    objects = rendered[org]
    maps, secrets = of_kind(objects, "ConfigMap"), of_kind(objects, "Secret")
    for name, deployment in of_kind(objects, "Deployment").items():
        c = container(deployment)
        env: dict[str, str] = {}
        for source in c["envFrom"]:
            if "configMapRef" in source:
                env.update(maps[source["configMapRef"]["name"]]["data"])
            else:
                env.update(secrets[source["secretRef"]["name"]]["stringData"])
        explicit = {e["name"] for e in c.get("env", [])}
        unknown = (set(env) | explicit) - deploy.env_names(name)
        assert not unknown, f"{org}/{name}: {sorted(unknown)} are not settings of {name}"
        missing = deploy.required_settings(name) - set(env) - explicit
        assert not missing, f"{org}/{name} does not set {sorted(missing)}"
        settings = deploy.parse_settings(name, env, monkeypatch)
        assert settings.org_id == org and settings.partnership_id == "varde"
        assert settings.kafka_enable_idempotence is True and settings.kafka_ensure_topics is False
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.kafka_sasl_username == org, "the principal is the organisation (deploy/kafka/acls.yaml)"
        assert str(settings.http_port) in {str(p["containerPort"]) for p in c["ports"]}
        # secrets stay out of ConfigMaps
        config_keys = {k for s in c["envFrom"] if "configMapRef" in s for k in maps[s["configMapRef"]["name"]]["data"]}
        assert not {"DATABASE_URL", "KAFKA_SASL_PASSWORD", "API_KEYS", "SMTP_PASSWORD"} & config_keys


def test_topic_job_runs_the_cli_against_the_bus(rendered, deploy) -> None:
    objects = rendered["varde-kommune"]
    job = of_kind(objects, "Job")["kafka-topics"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["command"][0] == "brobygger"
    deploy.assert_cli_accepts(c["command"][1:])
    config = of_kind(objects, "ConfigMap")[c["envFrom"][0]["configMapRef"]["name"]]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.mark.parametrize("org", sorted(OVERLAYS))
def test_images_are_pinned_and_renamed_by_the_overlay(rendered, org: str) -> None:
    for obj in rendered[org]:
        if obj["kind"] in ("Deployment", "Job"):
            for c in obj["spec"]["template"]["spec"]["containers"]:
                name, _, tag = c["image"].rpartition(":")
                assert tag and tag != "latest" and tag[0].isdigit(), c["image"]
                assert name.endswith("/brobygger"), f"{c['image']}: the overlay's registry was not applied"


def test_notify_reaches_referral_with_a_service_key_of_its_organisation(rendered, deploy, monkeypatch) -> None:
    from urllib.parse import urlparse

    from referral.domain.access import Role, parse_api_keys

    objects = rendered["varde-kommune"]
    maps, secrets = of_kind(objects, "ConfigMap"), of_kind(objects, "Secret")

    def env(service: str) -> dict[str, str]:
        return {**maps[f"{service}-settings"]["data"], **secrets[f"{service}-secrets"]["stringData"]}

    notify = deploy.parse_settings("notify", env("notify"), monkeypatch)
    referral = deploy.parse_settings("referral", env("referral"), monkeypatch)
    caller = parse_api_keys(referral.api_keys)[notify.citizen_contact_api_key]
    assert (caller.org, caller.role) == (notify.org_id, Role.service)
    url = urlparse(notify.citizen_contact_url)
    service = of_kind(objects, "Service")[url.hostname]
    assert url.port in {p["port"] for p in service["spec"]["ports"]}
