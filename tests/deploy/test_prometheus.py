"""deploy/prometheus: promtool validates the configuration and the rules and
runs the rules' unit tests; targets and metric names match the services."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROMTOOL = "/usr/bin/promtool"


def promtool(*args: str, cwd: Path) -> str:
    binary = PROMTOOL if Path(PROMTOOL).exists() else shutil.which("promtool")
    assert binary, ("promtool is missing: install Debian's package `prometheus` "
                    "(scripts/install-system-packages.sh does); these checks must not be skipped")
    done = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def folder(repo) -> Path:
    return repo / "deploy/prometheus"


def test_promtool_check_config(folder) -> None:
    out = promtool("check", "config", "prometheus.yml", cwd=folder)
    assert "SUCCESS: 1 rule files found" in out


def test_promtool_check_rules(folder) -> None:
    out = promtool("check", "rules", "alerts.yml", cwd=folder)
    assert "SUCCESS" in out


def test_promtool_unit_tests_of_every_alert(folder, deploy) -> None:
    promtool("test", "rules", "alerts_test.yml", cwd=folder)
    alerts = {r["alert"] for g in deploy.load_yaml(folder / "alerts.yml")["groups"] for r in g["rules"]}
    tested = {t["alertname"] for case in deploy.load_yaml(folder / "alerts_test.yml")["tests"]
              for t in case.get("alert_rule_test", [])}
    assert alerts == tested, f"alerts without a unit test: {sorted(alerts - tested)}"
    assert {"BrobyggerServiceDown", "BrobyggerConsumerLagGrowing", "BrobyggerOutboxStuck", "BrobyggerDeadLetters",
            "BrobyggerCitizensWaitingBeyondFirstContact"} <= alerts


def test_alerts_use_metrics_and_labels_the_services_expose(folder, deploy, known_metrics) -> None:
    for group in deploy.load_yaml(folder / "alerts.yml")["groups"]:
        for rule in group["rules"]:
            expr = rule["expr"]
            used = deploy.metric_names(expr)
            assert used, rule["alert"]
            unknown = used - set(known_metrics)
            assert not unknown, f"{rule['alert']} queries {sorted(unknown)}, which no service defines"
            labels = set().union(*(known_metrics[m] for m in used)) | deploy.TARGET_LABELS
            for clause in re.findall(r"by\s*\(([^)]*)\)", expr):
                by = {label.strip() for label in clause.split(",") if label.strip()}
                assert by <= labels, f"{rule['alert']} groups by {sorted(by - labels)}, labels its metrics lack"
            for metric, names in deploy.selectors(expr):
                assert names <= labels, f"{rule['alert']}: {metric} has no label {sorted(names - labels)}"


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
