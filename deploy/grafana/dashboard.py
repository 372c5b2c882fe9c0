"""Writes dashboards/brobygger.json: `python deploy/grafana/dashboard.py`.

The dashboard is generated so that its queries stay few and uniform; a test
checks the committed JSON is what this script writes and that every metric it
queries is one the services expose.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).parent / "dashboards" / "brobygger.json"
SEL = 'org=~"$org", service=~"$service"'
RATE = "$__rate_interval"


def event(name: str) -> str:
    """Selector for one event type of the catalogue, e.g. MatchProposed."""
    return f'event_type=~"org\\\\.brobygger\\\\.[a-z]+\\\\.{name}\\\\.v1"'


class Layout:
    def __init__(self) -> None:
        self.panels: list[dict] = []
        self.y = 0
        self.x = 0
        self.next_id = 1

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False, "id": self._id(),
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def panel(self, title: str, targets: list[tuple[str, str]], *, kind: str = "timeseries", unit: str = "short",
              width: int = 8, height: int = 8, description: str = "", instant: bool = False) -> None:
        if self.x + width > 24:
            self._newline()
        self.panels.append({
            "type": kind,
            "title": title,
            "description": description,
            "id": self._id(),
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": height, "w": width, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
            if kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
            "targets": [
                {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "instant": instant,
                 "range": not instant, "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                for i, (expr, legend) in enumerate(targets)
            ],
        })
        self.x += width
        self._height = height

    def _newline(self) -> None:
        if self.x:
            self.y += getattr(self, "_height", 8)
            self.x = 0

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def operators(d: Layout) -> None:
    d.row("Operators: delivery and health")
    d.panel("Service instances up", [(f'up{{job="brobygger", {SEL}}}', "{{service}} {{org}}")],
            kind="stat", width=6, instant=True, description="1 = scraped; 0 = down (alert BrobyggerServiceDown)")
    d.panel("Events consumed / s by type", [
        (f"sum by (service, event_type, outcome) (rate(brobygger_events_consumed_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{event_type}} {{outcome}}")], unit="ops", width=9)
    d.panel("Events published / s by type", [
        (f"sum by (service, event_type) (rate(brobygger_events_published_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{event_type}}")], unit="ops", width=9)
    d.panel("Handler latency p95", [
        (f"histogram_quantile(0.95, sum by (le, service, event_type) "
         f"(rate(brobygger_handler_duration_seconds_bucket{{{SEL}}}[{RATE}])))", "{{service}} {{event_type}}")],
        unit="s", description="one event including its database transaction (inbox, state, outbox)")
    d.panel("Consumer lag (records)", [
        (f"sum by (service, org, topic) (brobygger_consumer_lag{{{SEL}}})", "{{service}} {{org}} {{topic}}")],
        description="records behind the partition end per consumer group <partnership>.<org>.<service>")
    d.panel("Handler retries / s", [
        (f"sum by (service, event_type) (rate(brobygger_handler_retries_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{event_type}}")], unit="ops")
    d.panel("Outbox backlog (unsent rows)", [
        (f"sum by (service, org) (brobygger_outbox_backlog{{{SEL}}})", "{{service}} {{org}}")])
    d.panel("Outbox: age of the oldest unsent row", [
        (f"max by (service, org) (brobygger_outbox_oldest_unsent_age_seconds{{{SEL}}})", "{{service}} {{org}}")],
        unit="s", description="above 5 minutes with a backlog: alert BrobyggerOutboxStuck")
    d.panel("Outbox relay failures and republished rows", [
        (f"sum by (service, org) (increase(brobygger_outbox_relay_failures_total{{{SEL}}}[{RATE}]))",
         "failed rounds {{service}} {{org}}"),
        (f"sum by (service, org) (increase(brobygger_outbox_republished_total{{{SEL}}}[{RATE}]))",
         "republished {{service}} {{org}}")])
    d.panel("Dead letters", [
        (f"sum by (service, topic, cause) (increase(brobygger_dead_letters_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{topic}} {{cause}}")],
        description="`brobygger dlt list <topic>` shows them; `brobygger dlt replay` after a fix")
    d.panel("Inbox duplicates / s", [
        (f"sum by (service, event_type) (rate(brobygger_inbox_duplicates_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{event_type}}")], unit="ops", description="redelivered events recognised and skipped")
    d.panel("Events consumed / s", [
        (f"sum by (service, outcome) (rate(brobygger_events_consumed_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{outcome}}")], unit="ops", description="handled, duplicate (inbox), ignored (not ours), dead_lettered")
    d.panel("Consumer waiting for database or broker", [
        (f"sum by (service, org) (increase(brobygger_consumer_transient_waits_total{{{SEL}}}[{RATE}]))",
         "{{service}} {{org}}")],
        description="batches held back by a transient failure; they wait, without limit and in order, rather than dead-letter")
    d.panel("HTTP requests / s", [
        (f"sum by (service, handler, status) (rate(brobygger_http_requests_total{{{SEL}, handler!~\"/health.*|/metrics\"}}[{RATE}]))",
         "{{service}} {{handler}} {{status}}")], unit="reqps", width=12)
    d.panel("HTTP latency p95", [
        (f"histogram_quantile(0.95, sum by (le, service, handler) "
         f"(rate(brobygger_http_request_duration_seconds_bucket{{{SEL}, handler!~\"/health.*|/metrics\"}}[{RATE}])))",
         "{{service}} {{handler}}")], unit="s", width=12)


def partnership(d: Layout) -> None:
    d.row("Partnership: from referral to lasting community")
    funnel = ["ReferralReceived", "GuideAssigned", "NeedsClarified", "MatchProposed", "MatchAccepted",
              "FirstVisitAccompanied", "GroupBecameSelfRunning", "JourneyCompleted"]
    d.panel("Funnel in the selected period", [
        (f"sum(increase(brobygger_events_published_total{{{event(name)}}}[$__range]))", name) for name in funnel],
        kind="bargauge", width=12, height=9, instant=True,
        description="events published across the partnership; counts since the services' start within the range")
    d.panel("Journeys by state", [('sum by (state) (brobygger_journeys{org=~"$org"})', "{{state}}")],
            width=12, height=9, description="journey service gauge")
    d.panel("Citizens waiting beyond the limits", [
        ('sum by (waiting_for) (brobygger_citizens_waiting_beyond_limit{org=~"$org"})', "{{waiting_for}}")],
        width=8, description="first_contact, match and first_visit limits of the journey service's settings")
    d.panel("Proposals", [
        (f"sum by (org) (increase(brobygger_events_published_total{{{event('MatchProposed')}, org=~\"$org\"}}[{RATE}]))",
         "proposed by {{org}}"),
        (f"sum by (org) (increase(brobygger_events_published_total{{{event('MatchAccepted')}, org=~\"$org\"}}[{RATE}]))",
         "accepted ({{org}})"),
        (f"sum by (org) (increase(brobygger_events_published_total{{{event('MatchDeclined')}, org=~\"$org\"}}[{RATE}]))",
         "declined ({{org}})")], width=8)
    d.panel("Groups", [
        (f"sum(increase(brobygger_events_published_total{{{event('GroupProposed')}}}[$__range]))", "proposed"),
        (f"sum(increase(brobygger_events_published_total{{{event('GroupFormed')}}}[$__range]))", "formed"),
        (f"sum(increase(brobygger_events_published_total{{{event('GroupBecameSelfRunning')}}}[$__range]))",
         "became self-running"),
        ('sum(brobygger_groups{state="self_running", org=~"$org"})', "self-running now")],
        kind="stat", width=8, instant=True)
    d.panel("Referrals by source in the selected period", [
        ('sum by (source) (increase(brobygger_referrals_received_total{org=~"$org"}[$__range]))', "{{source}}")],
        kind="bargauge", width=12, instant=True, description="referral service: accepted cards by who referred")
    d.panel("Groups by state", [('sum by (state) (brobygger_groups{org=~"$org"})', "{{state}}")], width=12,
            description="journey service: proposed, forming, facilitated, self_running")


def dashboard() -> dict:
    d = Layout()
    operators(d)
    partnership(d)
    query = 'label_values(up{job="brobygger"}, %s)'
    return {
        "uid": "brobygger",
        "title": "Brobygger",
        "description": "Operators: delivery and health of each organisation's services. Partnership: the citizens' way through.",
        "tags": ["brobygger"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
             "current": {"text": "Prometheus", "value": "prometheus"}},
            *({"name": name, "label": name, "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
               "query": {"query": query % name, "refId": name}, "definition": query % name, "refresh": 2,
               "includeAll": True, "multi": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"}}
              for name in ("org", "service")),
        ]},
        "annotations": {"list": []},
        "panels": d.panels,
    }


def main() -> None:
    OUT.write_text(json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
