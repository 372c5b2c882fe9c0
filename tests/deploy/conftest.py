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


def load_yaml_all(path: Path) -> list:
    """Every document of a YAML file, empty ones left out."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


# --- docker-compose.yml, as compose sees it: interpolated from the environment (`.env`) ---

COMPOSE_ENV_EXAMPLE = REPO / "deploy/compose/env.example"
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))"
)


class MissingVariable(LookupError):
    """`${NAME:?message}` (or `${NAME?message}`) with NAME unset: compose refuses to start."""


def interpolate(value, env: dict[str, str]):  # noqa: ANN001, ANN201
    """Compose's variable substitution (compose-spec interpolation): `$$`, `$NAME`,
    `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`,
    `${NAME?error}`, `${NAME:+other}`, `${NAME+other}`; in values, never in keys."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        assert match.group("invalid") is None, f"invalid interpolation in {value!r}"
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        set_, non_empty = current is not None, bool(current)
        if op in (":?", "?"):
            if not (non_empty if op == ":?" else set_):
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op in (":-", "-"):
            return current if (non_empty if op == ":-" else set_) else arg
        if op in (":+", "+"):
            return arg if (non_empty if op == ":+" else set_) else ""
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def compose_variables(value) -> dict[str, str | None]:  # noqa: ANN001
    """NAME -> operator (":?", "-"... or None) of every variable the values of a
    parsed compose file read (comments are not read: YAML dropped them)."""
    if isinstance(value, dict):
        return {k: v for item in value.values() for k, v in compose_variables(item).items()}
    if isinstance(value, list):
        return {k: v for item in value for k, v in compose_variables(item).items()}
    if not isinstance(value, str):
        return {}
    return {m.group("braced") or m.group("named"): m.group("op")
            for m in _INTERPOLATION.finditer(value) if m.group("braced") or m.group("named")}


def env_example_names(path: Path = COMPOSE_ENV_EXAMPLE) -> dict[str, str]:
    """NAME -> value of each `NAME=value` line."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value
    return out


TEST_KEY = "dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI="
"""A test key-encryption key: base64 of 32 bytes, as referral requires."""


def compose_test_env() -> dict[str, str]:
    """What `.env` holds, with test values: one per variable env.example lists."""
    return {name: TEST_KEY if name.endswith("KEY_ENCRYPTION_KEY") else f"test-{name.lower().replace('_', '-')}"
            for name in env_example_names()}


@pytest.fixture(scope="session")
def raw_compose() -> dict:
    """docker-compose.yml before interpolation (`${NAME:?...}` as written)."""
    return load_yaml(REPO / "docker-compose.yml")


@pytest.fixture(scope="session")
def compose(raw_compose) -> dict:
    """docker-compose.yml as compose runs it, with a test value for every variable of env.example."""
    return interpolate(raw_compose, compose_test_env())


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
# Identity (DESIGN.md section 9): the issuers trusted, each for its organisation, and
# the service's own client at its organisation's issuer.
PRODUCTION_REQUIRED = {
    "PARTNERSHIP_ID", "ORG_ID", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_ENABLE_IDEMPOTENCE", "KAFKA_ENSURE_TOPICS",
    "DATABASE_URL", "HTTP_HOST", "HTTP_PORT",
    "TRUSTED_ISSUERS", "AUTH_AUDIENCE", "AUTH_ISSUER", "AUTH_CLIENT_ID", "AUTH_CLIENT_SECRET",
}
PRODUCTION_REQUIRED_BY_SERVICE = {
    "referral": {"PARTNERSHIP_ORGS"},
    "notify": {"SMTP_HOST", "SMTP_PORT", "MAIL_FROM", "CITIZEN_CONTACT_URL"},
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
    consumed_services: set[str]  # the publishers whose topics it reads (by pattern)
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
        required = {"key_encryption_key": TEST_KEY} if service == "referral" else {}
        runtime, app = module.build(module.Settings(
            partnership_id="varde", database_url=f"sqlite+aiosqlite:///{data}/{service}.db", **required))

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
            consumed_services=set(runtime.consumer.services),
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
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches",
                "configMapGenerator", "secretGenerator"}
GENERATOR_FIELDS = {"name", "literals", "envs", "files", "type"}


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


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_env_file(path: Path) -> dict[str, str]:
    """A kustomize `envs:` file: KEY=value lines (value as written, quotes and all),
    blank lines and `#` comments skipped; a KEY without `=` takes the environment's value."""
    import os

    if not path.is_file():
        raise FileNotFoundError(f"env source file {path} is missing (kustomize fails the same way)")
    out = {}
    for line in path.read_text().removeprefix("\ufeff").splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert re.fullmatch(r"[A-Za-z_.-][A-Za-z0-9_.-]*", key), f"{path}: {key!r} is not a variable name"
        out[key] = value if sep else os.environ.get(key, "")
    return out


def _generated_data(folder: Path, spec: dict) -> dict[str, str]:
    data: dict[str, str] = {}
    for env_file in spec.get("envs", []):
        data.update(read_env_file(folder / env_file))
    for literal in spec.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = _unquote(value)
    for source in spec.get("files", []):
        key, _, path = source.rpartition("=")
        path = folder / path
        if not path.is_file():
            raise FileNotFoundError(f"file source {path} is missing (kustomize fails the same way)")
        data[key or path.name] = path.read_text()
    return data


def _kustomize_base64(value: str) -> str:
    """Secret data as kustomize writes it: base64, in lines of 70 each ended by a newline when longer."""
    import base64

    encoded = base64.b64encode(value.encode()).decode()
    if len(encoded) < 70:
        return encoded
    return "".join(encoded[i:i + 70] + "\n" for i in range(0, len(encoded), 70))


def _generate(folder: Path, k: dict) -> list[dict]:
    """The ConfigMaps and Secrets of configMapGenerator and secretGenerator, before their name suffix."""
    out = []
    for kind, field in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for spec in k.get(field, []):
            unknown = set(spec) - GENERATOR_FIELDS
            assert not unknown, f"{folder}: generator fields {unknown} are not rendered by tests/deploy"
            data = _generated_data(folder, spec)
            obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
            if kind == "Secret":
                obj.update(type=spec.get("type", "Opaque"), data={k_: _kustomize_base64(v) for k_, v in data.items()})
            else:
                obj["data"] = data
            out.append(obj)
    return out


def _name_hash(obj: dict) -> str:
    """kustomize's suffix (api/hasher): sha256 of the JSON of kind, name, data (and a Secret's
    type), first ten hex digits with 0, 1, 3, a, e mapped to g, h, k, m, t. kustomize 5
    looks the name up at the document's top level, where there is none: it hashes ""."""
    import hashlib
    import json

    fields = {"kind": obj["kind"], "name": "", "data": obj.get("data", {})}
    if obj["kind"] == "Secret":
        fields["type"] = obj.get("type", "")
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _rename_references(objects: list[dict], kind: str, old: str, new: str) -> None:
    """Point pod templates' envFrom, env and volumes at a generated object's suffixed name."""
    ref, key_ref, volume, volume_key = (("configMapRef", "configMapKeyRef", "configMap", "name") if kind == "ConfigMap"
                                        else ("secretRef", "secretKeyRef", "secret", "secretName"))
    for obj in objects:
        for template in _pod_templates(obj):
            spec = template["spec"]
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                for source in container.get("envFrom", []):
                    if source.get(ref, {}).get("name") == old:
                        source[ref]["name"] = new
                for env in container.get("env", []):
                    if env.get("valueFrom", {}).get(key_ref, {}).get("name") == old:
                        env["valueFrom"][key_ref]["name"] = new
            for vol in spec.get("volumes", []):
                if vol.get(volume, {}).get(volume_key) == old:
                    vol[volume][volume_key] = new


def generator_sources(folder: Path) -> list[Path]:
    """The files a kustomization's generators read (envs: and files:)."""
    k = load_yaml(folder / "kustomization.yaml")
    out = []
    for field in ("configMapGenerator", "secretGenerator"):
        for spec in k.get(field, []):
            out += [folder / p for p in spec.get("envs", [])]
            out += [folder / p.rpartition("=")[2] for p in spec.get("files", [])]
    return out


def kustomize(folder: Path) -> list[dict]:
    """Render a kustomization like `kustomize build`, for the features deploy/ uses (others fail loudly).
    A generator whose source file is missing raises FileNotFoundError, as kustomize fails."""
    k = load_yaml(folder / "kustomization.yaml")
    unknown = set(k) - KNOWN_FIELDS
    assert not unknown, f"{folder}: kustomization fields {unknown} are not rendered by tests/deploy"
    objects: list[dict] = []
    for resource in k.get("resources", []):
        path = (folder / resource).resolve()
        objects += kustomize(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    generated = _generate(folder, k)
    objects += generated
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
    for obj in generated:  # last, as kustomize does: the suffix, then the references to it
        old = obj["metadata"]["name"]
        obj["metadata"]["name"] = f"{old}-{_name_hash(obj)}"
        _rename_references(objects, obj["kind"], old, obj["metadata"]["name"])
    return objects


@pytest.fixture(scope="session")
def k8s_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/k8s whose overlays have their secret files, made from the
    committed `*.env.example` with test values (`<password>` and empty values
    filled in), as an operator makes them from the secret store."""
    root = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(REPO / "deploy/k8s", root, ignore=shutil.ignore_patterns("*.env", "__pycache__"))
    for example in root.glob("overlays/*/secrets/*.env.example"):
        lines = []
        for line in example.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.lstrip().startswith("#"):
                value = value.replace("<password>", "test-only-password") or (
                    TEST_KEY if key == "KEY_ENCRYPTION_KEY" else f"test-only-{key.lower()}")
                line = f"{key}={value}"
            lines.append(line)
        example.with_suffix("").write_text("\n".join(lines) + "\n")
    return root


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
