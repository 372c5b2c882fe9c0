"""deploy/prometheus: promtool validates the configuration and the rules and
runs the rules' unit tests; targets and metric names match the services."""

from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture(scope="module")
def folder(repo) -> Path:
    return repo / "deploy/prometheus"


def test_promtool_check_config(folder, deploy) -> None:
    out = deploy.promtool("check", "config", "prometheus.yml", cwd=folder)
    assert "SUCCESS: 1 rule files found" in out


def test_promtool_check_rules(folder, deploy) -> None:
    out = deploy.promtool("check", "rules", "alerts.yml", cwd=folder)
    assert "SUCCESS" in out


def test_promtool_unit_tests_of_every_alert(folder, deploy) -> None:
    deploy.promtool("test", "rules", "alerts_test.yml", cwd=folder)
    alerts = {r["alert"] for g in deploy.load_yaml(folder / "alerts.yml")["groups"] for r in g["rules"]}
    tested = {t["alertname"] for case in deploy.load_yaml(folder / "alerts_test.yml")["tests"]
              for t in case.get("alert_rule_test", [])}
    assert alerts == tested, f"alerts without a unit test: {sorted(alerts - tested)}"
    assert {"BrobyggerServiceDown", "BrobyggerConsumerLagGrowing", "BrobyggerOutboxStuck", "BrobyggerDeadLetters",
            "BrobyggerCitizensWaitingBeyondFirstContact"} <= alerts


def test_alerts_use_metrics_and_labels_the_services_expose(folder, deploy, known_metrics) -> None:
    for group in deploy.load_yaml(folder / "alerts.yml")["groups"]:
        for rule in group["rules"]:
            deploy.assert_known_metrics_and_labels(rule["expr"], known_metrics, f"alert {rule['alert']}")


def test_scrape_targets_are_the_compose_services(folder, deploy, compose, monkeypatch) -> None:
    config = deploy.load_yaml(folder / "prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "brobygger"]
    targets = {}
    for group in job["static_configs"]:
        for target in group["targets"]:
            targets[target] = group["labels"]
    expected = {}
    for name, svc in compose["services"].items():
        if svc.get("image", "").startswith("brobygger:") and "ORG_ID" in svc.get("environment", {}):
            settings = deploy.parse_settings(svc["command"][0], svc["environment"], monkeypatch)
            expected[f"{name}:{settings.http_port}"] = {"service": settings.service_name, "org": settings.org_id}
    assert targets == expected
    assert job.get("metrics_path", "/metrics") == "/metrics"


def test_kubernetes_scrape_config_relabels_from_labels_the_pods_carry(folder, deploy, k8s_tree, tmp_path) -> None:
    """Debian's promtool is built without Kubernetes discovery, so the discovery
    block is swapped for a static one to let promtool check the rest (relabelling
    included); the pod labels and annotations it reads are checked against the
    rendered overlays."""
    import re as regex

    import yaml

    config = deploy.load_yaml(folder / "prometheus-kubernetes.yml")
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "brobygger" and job["kubernetes_sd_configs"] == [{"role": "pod"}]
    checked = dict(config, scrape_configs=[{k: v for k, v in job.items() if k != "kubernetes_sd_configs"}
                                           | {"static_configs": [{"targets": ["pod:8000"]}]}])
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(checked))
    (tmp_path / "alerts.yml").write_text((folder / "alerts.yml").read_text())
    deploy.promtool("check", "config", "prometheus.yml", cwd=tmp_path)

    def meta(kind: str, name: str) -> str:
        return f"__meta_kubernetes_pod_{kind}_" + regex.sub(r"[^a-zA-Z0-9_]", "_", name)

    targets = {r["target_label"] for r in job["relabel_configs"] if "target_label" in r}
    assert {"service", "org", "partnership"} <= targets
    for org in ("varde-kommune", "red-cross"):
        for obj in deploy.kustomize(k8s_tree / "overlays" / org):
            if obj["kind"] != "Deployment":
                continue
            pod = obj["spec"]["template"]["metadata"]
            offered = {meta("label", k) for k in pod["labels"]} | {meta("annotation", k) for k in pod["annotations"]}
            offered |= {"__meta_kubernetes_pod_container_port_name", "__meta_kubernetes_pod_name"}
            for rule in job["relabel_configs"]:
                missing = set(rule["source_labels"]) - offered
                assert not missing, f"{org}/{obj['metadata']['name']} pods carry no {sorted(missing)}"
            ports = {p["name"] for c in obj["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
            assert "http" in ports
