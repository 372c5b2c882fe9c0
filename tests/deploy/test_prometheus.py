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
