"""A real Prometheus (Debian's package) scrapes the embedded stack while the
demo plays; its API shows every service's metrics arrived."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import httpx
import pytest

from brobygger_stack.demo import DemoEndpoints, play
from brobygger_stack.testing import listen_ports



PROMETHEUS = shutil.which("prometheus")


def scrape_config(stack) -> str:  # noqa: ANN001
    jobs = []
    for proc in stack.services.values():
        jobs.append(
            f"  - job_name: '{proc.package}-{proc.org_id}'\n"
            f"    scrape_interval: 1s\n"
            f"    static_configs:\n"
            f"      - targets: ['127.0.0.1:{proc.port}']\n"
            f"        labels: {{service: '{proc.package}', org: '{proc.org_id}'}}\n"
        )
    return "global:\n  scrape_interval: 1s\nscrape_configs:\n" + "".join(jobs)


def query(url: str, promql: str) -> list[dict]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


async def test_prometheus_sees_every_service_metrics(stack, tmp_path):  # noqa: ANN001
    if PROMETHEUS is None:
        pytest.fail("prometheus is not installed: `make setup` installs Debian's package")
    config = tmp_path / "prometheus.yml"
    config.write_text(scrape_config(stack))
    port = listen_ports()
    url = f"http://127.0.0.1:{port}"
    prometheus = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"),
    )
    try:
        await asyncio.to_thread(play, DemoEndpoints.of_stack(stack), lambda _line: None, 90)
        jobs = {f"{p.package}-{p.org_id}" for p in stack.services.values()}
        deadline = time.monotonic() + 60
        seen: dict[str, set[str]] = {}
        while time.monotonic() < deadline:
            try:
                up = {r["metric"]["job"] for r in query(url, "up == 1")}
                consumed = {r["metric"]["job"] for r in query(url, "sum by (job) (brobygger_events_consumed_total) > 0")}
                published = {r["metric"]["job"] for r in query(url, "sum by (job) (brobygger_events_published_total) > 0")}
                http = {r["metric"]["job"] for r in query(url, "sum by (job) (brobygger_http_requests_total) > 0")}
                seen = {"up": up, "consumed": consumed, "published": published, "http": http}
                if up == jobs and published == jobs and http == jobs and consumed >= jobs - {"referral-varde-kommune"}:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        assert seen.get("up") == jobs, seen
        # Every service published events; every consumer handled some (referral consumes journey milestones).
        assert seen["published"] == jobs, seen
        assert seen["consumed"] >= jobs - {"referral-varde-kommune"}, seen
        assert seen["http"] == jobs, seen
        backlog = {r["metric"]["job"] for r in query(url, "brobygger_outbox_backlog")}
        assert backlog == jobs
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
