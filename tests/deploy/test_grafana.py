"""deploy/grafana: the dashboard parses, is what its generator writes, queries
only metrics the services define (with labels they carry), and promtool
accepts every query."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import yaml


@pytest.fixture(scope="module")
def dashboard(repo) -> dict:
    return json.loads((repo / "deploy/grafana/dashboards/brobygger.json").read_text())


def queries(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_dashboard_is_what_the_generator_writes(repo, dashboard) -> None:
    spec = importlib.util.spec_from_file_location("grafana_dashboard", repo / "deploy/grafana/dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dashboard() == dashboard, "stale: run python deploy/grafana/dashboard.py"


def test_dashboard_has_the_operators_and_the_partnership_rows(dashboard) -> None:
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert len(rows) == 2 and rows[0].startswith("Operators") and rows[1].startswith("Partnership")
    text = json.dumps(dashboard)
    for metric in ("brobygger_events_consumed_total", "brobygger_events_published_total",
                   "brobygger_handler_duration_seconds_bucket", "brobygger_consumer_lag", "brobygger_outbox_backlog",
                   "brobygger_outbox_oldest_unsent_age_seconds", "brobygger_dead_letters_total",
                   "brobygger_inbox_duplicates_total", "brobygger_http_requests_total",
                   "brobygger_journeys", "brobygger_citizens_waiting_beyond_limit", "brobygger_groups",
                   "brobygger_referrals_received_total"):
        assert metric in text, metric
    for event in ("MatchProposed", "GroupBecameSelfRunning", "ReferralReceived"):
        assert event in text
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_panels_do_not_overlap(dashboard) -> None:
    cells = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, panel["title"]
        cells |= mine


def test_every_query_uses_metrics_and_labels_the_services_define(dashboard, deploy, known_metrics) -> None:
    for title, expr in queries(dashboard):
        deploy.assert_known_metrics_and_labels(expr, known_metrics, f"panel {title!r}")


def test_every_query_is_valid_promql(dashboard, deploy, tmp_path) -> None:
    """promtool parses each query as a recording rule, Grafana's variables filled in."""
    rules = []
    for n, (_title, expr) in enumerate(queries(dashboard)):
        filled = (expr.replace("$__rate_interval", "5m").replace("$__range", "6h")
                  .replace("$org", ".*").replace("$service", ".*"))
        rules.append({"record": f"dashboard:query_{n}", "expr": filled})
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    deploy.promtool("check", "rules", path.name, cwd=tmp_path)


def test_event_selectors_match_the_catalogues_event_types(dashboard) -> None:
    from brobygger_contracts.catalogue import EVENTS

    types = [cls.event_type() for cls in EVENTS]
    for _title, expr in queries(dashboard):
        for pattern in re.findall(r'event_type=~"([^"]*)"', expr):
            regex = pattern.replace("\\\\", "\\")
            assert any(re.fullmatch(regex, t) for t in types), f"{pattern} matches no event type of the catalogue"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(repo, deploy) -> None:
    base = repo / "deploy/grafana/provisioning"
    (source,) = deploy.load_yaml(base / "datasources/prometheus.yml")["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    (provider,) = deploy.load_yaml(base / "dashboards/brobygger.yml")["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    compose = deploy.load_yaml(repo / "docker-compose.yml")
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in compose["services"]["grafana"]["volumes"]
