"""Writes the kustomize base of each service: `python deploy/k8s/bases.py`.

The four bases differ only in the service, its resources and a few settings, so
they are generated from the table below; the output is committed (plain YAML,
what an operator's kustomize reads) and a test checks it is up to date.
Organisations adapt a base in an overlay (overlays/<org>/), never here.

A base holds no secret and names two objects only an overlay makes, with
kustomize generators (so a changed value rolls the pods):
- ConfigMap `auth-settings`: TRUSTED_ISSUERS, AUTH_ISSUER, AUTH_AUDIENCE, the
  same for all of an organisation's services (configMapGenerator, literals);
- Secret `<service>-secrets`: DATABASE_URL, KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD, AUTH_CLIENT_SECRET (notify also SMTP_USERNAME and
  SMTP_PASSWORD, referral KEY_ENCRYPTION_KEY), from `overlays/<org>/secrets/<service>.env` (secretGenerator),
  a gitignored file the operator writes from the organisation's secret store;
  `kubectl apply -k` fails while it is missing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).parent
IMAGE = "brobygger:0.1.0"
PORT = 8000

# service -> (requests, memory limit, extra settings in the ConfigMap)
SERVICES: dict[str, tuple[dict[str, str], str, dict[str, str]]] = {
    "referral": ({"cpu": "100m", "memory": "192Mi"}, "512Mi", {
        "PARTNERSHIP_ORGS": "",
        # the subject-access report asks the organisation's own services; a partner's run elsewhere (overlay)
        "SUBJECT_ACCESS_SERVICES": f"journey=http://journey:{PORT},notify=http://notify:{PORT},matching=http://matching:{PORT}"}),
    "matching": ({"cpu": "200m", "memory": "256Mi"}, "768Mi", {"ASSIGNMENT_INTERVAL_SECONDS": "300",
                                                               "REASONS_LANGUAGE": "en"}),
    "journey": ({"cpu": "100m", "memory": "192Mi"}, "512Mi", {"FIRST_CONTACT_WORKING_DAYS": "3", "HOLIDAY_COUNTRY": "DK"}),
    "notify": ({"cpu": "100m", "memory": "192Mi"},
               "512Mi", {"SMTP_HOST": "smtp.example.org", "SMTP_PORT": "587", "SMTP_START_TLS": "true",
                         "MAIL_FROM": "brobygger@example.org", "CITIZEN_CONTACT_URL": "http://referral:8000"}),
}

# Settings every instance reads; overlays set the organisation's values.
COMMON_SETTINGS = {
    "PARTNERSHIP_ID": "example",
    "ORG_ID": "example-org",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap.kafka.svc:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_ENABLE_IDEMPOTENCE": "true",
    "KAFKA_ENSURE_TOPICS": "false",
    "HTTP_HOST": "0.0.0.0",
    "HTTP_PORT": str(PORT),
    "LOG_LEVEL": "INFO",
    "LOG_JSON": "true",
    # referral's key endpoint (citizens' data keys for sealed fields); another organisation's
    # overlay names the owning organisation's public referral address
    "CITIZEN_KEYS_URL": "http://referral:8000/citizen-keys",
}

AUTH_SETTINGS = "auth-settings"
"""The overlay's ConfigMap of the organisation's identity settings (TRUSTED_ISSUERS, AUTH_ISSUER...)."""


def labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "brobygger"}


def selector(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service}


def probe(path: str, period: int, timeout: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": timeout,
            "failureThreshold": failures}


def deployment(service: str) -> dict:
    requests, memory_limit, _ = SERVICES[service]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {
            # Two replicas share the consumer group's partitions; a lease keeps
            # the outbox relay and timer loops single (runtime/lease.py).
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(service)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": labels(service),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT),
                                    "prometheus.io/path": "/metrics"},
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    # uvicorn drains for 20 s, the broker's handlers for 15 s
                    "terminationGracePeriodSeconds": 45,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                        "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": service,
                        "image": IMAGE,
                        "args": [service],
                        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                        # later sources win: the service's own settings over the organisation's
                        "envFrom": [{"configMapRef": {"name": AUTH_SETTINGS}},
                                    {"configMapRef": {"name": f"{service}-settings"}},
                                    {"secretRef": {"name": f"{service}-secrets"}}],
                        "env": [{"name": "INSTANCE_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        # migrations run before the app listens: give start-up a minute
                        "startupProbe": probe("/health/live", 2, 3, 30),
                        "livenessProbe": probe("/health/live", 10, 3, 3),
                        # database and broker reachable (3 s each)
                        "readinessProbe": probe("/health/ready", 10, 8, 3),
                        "resources": {"requests": requests, "limits": {"memory": memory_limit}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                                         {"name": "data", "mountPath": "/app/data"}],
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def service_object(service: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {"selector": selector(service),
                 "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]},
    }


def disruption_budget(service: str) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(service)}},
    }


def network_policy(service: str) -> dict:
    """Only the organisation's own namespace and its monitoring reach the API and
    /metrics; egress stays open (the bus, PostgreSQL and SMTP live elsewhere)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service, "labels": labels(service)},
        "spec": {
            "podSelector": {"matchLabels": selector(service)},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"podSelector": {}},
                         {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                "ports": [{"protocol": "TCP", "port": "http"}],
            }],
        },
    }


def settings(service: str) -> dict:
    # the OAuth client of the service's own tokens (AUTH_CLIENT_SECRET is in the overlay's Secret)
    data = {**COMMON_SETTINGS, "AUTH_CLIENT_ID": f"brobygger-{service}", **SERVICES[service][2]}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"{service}-settings", "labels": labels(service)}, "data": data}


FILES = {"configmap.yaml": settings, "deployment.yaml": deployment,
         "service.yaml": service_object, "pdb.yaml": disruption_budget, "networkpolicy.yaml": network_policy}


def render(service: str) -> dict[str, str]:
    """File name -> YAML text of one service's base."""
    header = "# Generated by deploy/k8s/bases.py; edit that, or patch in an overlay.\n"
    out = {name: header + yaml.safe_dump(make(service), sort_keys=False) for name, make in FILES.items()}
    out["kustomization.yaml"] = header + yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": list(FILES)},
        sort_keys=False)
    return out


def main() -> None:
    for service in SERVICES:
        folder = HERE / "base" / service
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in render(service).items():
            (folder / name).write_text(text)


if __name__ == "__main__":
    main()
