"""Helpers for the offline checks of docker-compose.yml, Dockerfile and deploy/.

Nothing here starts a container, a cluster or a broker: the services are
built in-process (no I/O happens until they start) to read what the code
really defines: settings, metrics, subscribed topics and health routes.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
import importlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("referral", "matching", "journey", "notify")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def load_yaml(path: Path):  # noqa: ANN201
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def compose() -> dict:
    return load_yaml(REPO / "docker-compose.yml")


def settings_class(service: str) -> type:
    """The pydantic Settings class a service reads its environment into."""
    return importlib.import_module(f"{service}.bootstrap").Settings


def env_names(service: str) -> set[str]:
    """Environment variables the service's settings read (pydantic-settings, no prefix, upper case)."""
    cls = settings_class(service)
    assert cls.model_config.get("env_prefix", "") == "", "an env prefix would change every name"
    names = set()
    for name, field in cls.model_fields.items():
        assert field.validation_alias is None and field.alias is None, f"{service}.{name} has an alias: read it here"
        names.add(name.upper())
    return names


# Settings that the production stack must set for every instance although the
# code has development defaults (127.0.0.1, SQLite, the demo partnership...).
PRODUCTION_REQUIRED = {
    "PARTNERSHIP_ID", "ORG_ID", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_ENABLE_IDEMPOTENCE", "KAFKA_ENSURE_TOPICS",
    "DATABASE_URL", "HTTP_HOST", "HTTP_PORT",
}
PRODUCTION_REQUIRED_BY_SERVICE = {
    "referral": {"PARTNERSHIP_ORGS", "API_KEYS"},
    "notify": {"SMTP_HOST", "SMTP_PORT", "MAIL_FROM", "CITIZEN_CONTACT_URL", "CITIZEN_CONTACT_API_KEY"},
    "matching": set(),
    "journey": set(),
}


def required_settings(service: str) -> set[str]:
    cls = settings_class(service)
    without_default = {name.upper() for name, field in cls.model_fields.items() if field.is_required()}
    return PRODUCTION_REQUIRED | PRODUCTION_REQUIRED_BY_SERVICE[service] | without_default


def parse_settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Settings exactly as the service would read them from this environment (and nothing else)."""
    for name in env_names(service):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return settings_class(service)()


@dataclass
class BuiltService:
    """What one service defines, read from an instance built (not started) in-process."""

    name: str
    metric_labels: dict[str, set[str]]  # every exposed sample name -> its label names
    consumed_topics: set[str]
    routes: set[str]


def _metric_labels(registry) -> dict[str, set[str]]:  # noqa: ANN001
    out: dict[str, set[str]] = {}
    for collector in set(registry._collector_to_names):  # noqa: SLF001 - label names of metrics without samples
        labels = set(getattr(collector, "_labelnames", ()))
        describe = getattr(collector, "describe", None)
        for family in (describe() if describe else []) or collector.collect():
            suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                        "summary": ("_sum", "_count", "_created")}.get(family.type, ("",))
            for suffix in suffixes:
                out[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
        for family in collector.collect():  # metrics without a label list (instrumentator's) carry them in samples
            for sample in family.samples:
                out.setdefault(sample.name, set()).update(k for k in sample.labels if k != "le" or "_bucket" in sample.name)
    return out


@pytest.fixture(scope="session")
def built_services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltService]:
    import asyncio

    data = tmp_path_factory.mktemp("built")
    built: dict[str, BuiltService] = {}
    for service in SERVICES:
        module = importlib.import_module(f"{service}.bootstrap")
        runtime, app = module.build(module.Settings(
            partnership_id="varde", database_url=f"sqlite+aiosqlite:///{data}/{service}.db"))

        async def touch(app=app) -> None:  # one request creates the HTTP metrics
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                assert (await client.get("/health/live")).status_code == 200

        loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the test session's loop
        try:
            loop.run_until_complete(touch())
        finally:
            loop.close()
        built[service] = BuiltService(
            name=service,
            metric_labels=_metric_labels(runtime.metrics.registry),
            consumed_topics=set(runtime.consumer.topics),
            routes={getattr(r, "path", "") for r in app.routes},
        )
    return built


# Labels every target carries: Prometheus's own and those of the scrape configs.
TARGET_LABELS = {"job", "instance", "service", "org", "partnership"}
@pytest.fixture(scope="session")
def known_metrics(built_services: dict[str, BuiltService]) -> dict[str, set[str]]:
    metrics: dict[str, set[str]] = {"up": set()}
    for service in built_services.values():
        for name, labels in service.metric_labels.items():
            metrics.setdefault(name, set()).update(labels)
    # a service may register domain gauges on the process-wide registry instead of the runtime's
    import prometheus_client

    for name, labels in _metric_labels(prometheus_client.REGISTRY).items():
        if name.startswith("brobygger_"):
            metrics.setdefault(name, set()).update(labels)
    return metrics


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (ours, faststream's and `up`)."""
    stripped = re.sub(r'"[^"]*"', '""', expr)  # no names inside label values
    names = set(re.findall(r"\b(?:brobygger|faststream)_[a-z0-9_]+\b", stripped))
    return names | ({"up"} if re.search(r"\bup\{", stripped) else set())


def assert_known_metrics_and_labels(expr: str, known: dict[str, set[str]], where: str) -> None:
    """A query selects only metrics some service defines, and groups and filters
    only by labels those metrics (or their scrape targets) carry."""
    used = metric_names(expr)
    assert used, f"{where}: no metric found in {expr}"
    unknown = used - set(known)
    assert not unknown, f"{where} queries {sorted(unknown)}, which no service defines"
    labels = set().union(*(known[m] for m in used)) | TARGET_LABELS
    for clause in re.findall(r"by\s*\(([^)]*)\)", expr):
        by = {label.strip() for label in clause.split(",") if label.strip()}
        assert by <= labels, f"{where} groups by {sorted(by - labels)}, labels its metrics lack"
    for metric, names in selectors(expr):
        assert names <= labels, f"{where}: {metric} has no label {sorted(names - labels)}"


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric, label names in its braces) for each `metric{...}` of an expression."""
    out = []
    for metric, body in re.findall(r"\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}", expr):
        out.append((metric, set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", re.sub(r'"[^"]*"', '""', body)))))
    return out


# --- kustomize, rendered in Python: resources, namespace, labels, images, patches ---

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}


def _merge(target: dict, patch: dict) -> None:
    """Strategic merge as kustomize does for the fields we patch: maps merge,
    lists of named items (containers, env, ports, volumes) merge by name, other lists replace."""
    for key, value in patch.items():
        assert not key.startswith("$"), f"strategic merge directive {key} is not supported by this renderer"
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value)
        elif (isinstance(value, list) and isinstance(current, list) and value
              and all(isinstance(v, dict) and "name" in v for v in value + current)):
            by_name = {item["name"]: item for item in current}
            for item in value:
                if item["name"] in by_name:
                    _merge(by_name[item["name"]], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _pod_templates(obj: dict) -> list[dict]:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]]
    return [spec["template"]] if "template" in spec else []


def kustomize(folder: Path) -> list[dict]:
    """Render a kustomization like `kustomize build`, for the features deploy/ uses (others fail loudly)."""
    k = load_yaml(folder / "kustomization.yaml")
    unknown = set(k) - KNOWN_FIELDS
    assert not unknown, f"{folder}: kustomization fields {unknown} are not rendered by tests/deploy"
    objects: list[dict] = []
    for resource in k.get("resources", []):
        path = (folder / resource).resolve()
        objects += kustomize(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    for entry in k.get("patches", []):
        assert set(entry) == {"path"}, f"{folder}: only file patches are rendered ({entry})"
        for patch in yaml.safe_load_all((folder / entry["path"]).read_text()):
            if not patch:
                continue
            matches = [o for o in objects if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]]
            assert len(matches) == 1, f"{entry['path']}: patch for {patch['kind']}/{patch['metadata']['name']} matches {len(matches)} objects"
            _merge(matches[0], patch)
    if namespace := k.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    for spec in k.get("labels", []):
        assert not spec.get("includeSelectors"), "selector labels are not rendered by tests/deploy"
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(spec["pairs"])
            if spec.get("includeTemplates"):
                for template in _pod_templates(obj):
                    template.setdefault("metadata", {}).setdefault("labels", {}).update(spec["pairs"])
    for image in k.get("images", []):
        for obj in objects:
            for template in _pod_templates(obj):
                for container in template["spec"].get("containers", []) + template["spec"].get("initContainers", []):
                    name, _, tag = container["image"].partition(":")
                    if name == image["name"]:
                        container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    return objects


PROMTOOL = "/usr/bin/promtool"


def promtool(*args: str, cwd: Path) -> str:
    """Run /usr/bin/promtool; its absence is a failure, never a skip."""
    binary = PROMTOOL if Path(PROMTOOL).exists() else shutil.which("promtool")
    assert binary, ("promtool is missing: install Debian's package `prometheus` "
                    "(scripts/install-system-packages.sh does); these checks must not be skipped")
    done = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr



@contextmanager
def health_server(path: str, status: int) -> Iterator[int]:
    """A local HTTP server answering `status` on `path` (404 elsewhere); yields its port."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(status if self.path == path else 404)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def assert_cli_accepts(args: list[str]) -> None:
    """The `brobygger` CLI knows this command and its options: it parses them
    (with --help appended, so that nothing runs); an unknown one exits 2."""
    from typer.testing import CliRunner

    from brobygger_stack.cli import app

    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"brobygger {' '.join(args)}: {result.output}"
    assert "Usage:" in result.output


@pytest.fixture(scope="session")
def deploy():  # noqa: ANN201
    """This module: the helpers above, for the test modules (conftest is not importable by name)."""
    import sys

    return sys.modules[__name__]
