"""The embedded stack: Tansu, an SMTP catcher, the embedded identity provider
(one issuer per organisation) and every service as its own process."""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, _port_open, free_port, wait_until_ready
from brobygger_stack.identity.provider import IdentityProvider
from brobygger_stack.partnership import Partnership
from brobygger_stack.processes import ServiceProcess
from brobygger_stack.smtp_catcher import SmtpCatcher


@dataclass(frozen=True)
class InstanceSpec:
    package: str
    org_id: str
    port: int


def default_instances(base_port: int = 8001) -> list[InstanceSpec]:
    """The demo partnership: the municipality runs referral, journey, notify and
    matching for its activities; Red Cross runs matching for its volunteer friends."""
    return [
        InstanceSpec("referral", "varde-kommune", base_port),
        InstanceSpec("matching", "varde-kommune", base_port + 1),
        InstanceSpec("journey", "varde-kommune", base_port + 2),
        InstanceSpec("notify", "varde-kommune", base_port + 3),
        InstanceSpec("matching", "red-cross", base_port + 11),
    ]


PARTNERSHIP_ORGS = "varde-kommune,red-cross,abf"


@dataclass
class EmbeddedStack:
    workdir: Path
    partnership_id: str = "varde"
    kafka_bootstrap_servers: str | None = None
    """Use this broker instead of starting Tansu."""
    database_url_for: dict[str, str] = field(default_factory=dict)
    """Database URL per instance name (`package@org`); default a SQLite file each."""
    instances: list[InstanceSpec] = field(default_factory=default_instances)
    smtp_port: int = 0
    identity: IdentityProvider | None = None
    """Trust this provider's issuers (tests pass theirs); default one of the stack's own, kept in the workdir."""
    identity_port: int = 0
    broker: EmbeddedKafka | None = None
    smtp: SmtpCatcher | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    console_port: int | None = None
    """Run the web console (`python -m console`) on this port (0: a free one); None: no console."""
    console: ServiceProcess | None = None
    _own_identity: bool = False

    def runs(self) -> dict[str, set[str]]:
        """Which organisation runs which service: the demo partnership's, and every instance started."""
        runs = {org: set(services) for org, services in Partnership.load().runs.items()}
        for spec in self.instances:
            runs.setdefault(spec.org_id, set()).add(spec.package)
        return runs

    @property
    def maildir(self) -> Path:
        return self.workdir / "mail"

    def start_infrastructure(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        if not self.kafka_bootstrap_servers:
            self.broker = EmbeddedKafka(log_path=str(self.workdir / "logs" / "tansu.log")).start()
            self.kafka_bootstrap_servers = self.broker.bootstrap_servers
        asyncio.run(wait_until_ready(self.kafka_bootstrap_servers))
        # Every topic of the partnership, as its operator would create them (`brobygger topics create`).
        asyncio.run(ensure_topics(self.kafka_bootstrap_servers, self.partnership_id, self.runs()))
        self.smtp = SmtpCatcher(port=self.smtp_port or free_port(), maildir=self.maildir).start()
        if self.identity is None:
            self.identity = IdentityProvider(workdir=self.workdir, port=self.identity_port).start()
            self._own_identity = True

    def service_env(self, spec: InstanceSpec) -> dict[str, str]:
        name = f"{spec.package}@{spec.org_id}"
        env = {
            "PARTNERSHIP_ID": self.partnership_id,
            "PARTNERSHIP_ORGS": PARTNERSHIP_ORGS,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers or "",
            "DATA_DIR": str(self.workdir / "data"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port if self.smtp else 25),
            "MAIL_FROM": "brobygger@varde.example",
            "REASONS_LANGUAGE": "da",  # a Danish partnership: reasons in the guides' e-mails in Danish
            "LOG_JSON": "true",
        }
        if name in self.database_url_for:
            env["DATABASE_URL"] = self.database_url_for[name]
        if spec.package == "matching":  # who proposes a citizen's new groups: the first of these their consent names
            env["MATCHING_ORGS"] = ",".join(org for org, services in self.runs().items() if "matching" in services)
        referral = next((i for i in self.instances if i.package == "referral"), None)
        if referral is not None:  # where every service gets citizens' data keys for sealed fields
            env["CITIZEN_KEYS_URL"] = f"http://127.0.0.1:{referral.port}/citizen-keys"
        if spec.package == "referral":
            env["KEY_ENCRYPTION_KEY"] = self.key_encryption_key()
            # the subject-access report asks every other instance for its part
            env["SUBJECT_ACCESS_SERVICES"] = ",".join(
                f"{i.package}@{i.org_id}=http://127.0.0.1:{i.port}" for i in self.instances if i.package != "referral")
        if self.identity is not None:
            client_id = f"brobygger-{spec.package}"
            env.update({
                "TRUSTED_ISSUERS": self.identity.trusted_issuers_json(),
                "AUTH_ISSUER": self.identity.issuer(spec.org_id),
                "AUTH_CLIENT_ID": client_id,
                "AUTH_CLIENT_SECRET": self.identity.client_secret(spec.org_id, client_id),
            })
        return env

    def key_encryption_key(self) -> str:
        """Referral's KEY_ENCRYPTION_KEY: made once per workdir and kept there (owner-only), so a
        restarted stack still opens the data keys its referral stored."""
        path = self.workdir / "secrets" / "key-encryption-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(base64.b64encode(os.urandom(32)).decode())
        return path.read_text().strip()

    def start_service(self, spec: InstanceSpec) -> ServiceProcess:
        proc = ServiceProcess(
            spec.package, spec.org_id, spec.port, env=self.service_env(spec),
            log_path=self.workdir / "logs" / f"{spec.package}-{spec.org_id}.log",
        )
        self.services[proc.name] = proc.start()
        return proc

    def start(self) -> "EmbeddedStack":
        self.start_infrastructure()
        for spec in self.instances:
            self.start_service(spec)
        if self.console_port is not None:
            self.start_console()
        for proc in self.services.values():
            proc.wait_ready()
        if self.console is not None:
            self.console.wait_ready()
        return self

    def console_env(self, port: int) -> dict[str, str]:
        """The console talks to every instance over HTTP with each person's token; its own client (role
        referrer at the home organisation) sends only the public page's cards."""
        from brobygger_stack.identity.seed import CONSOLE_CLIENT

        def first(package: str) -> str:
            return next((f"http://127.0.0.1:{i.port}" for i in self.instances if i.package == package), "")

        home = next((i.org_id for i in self.instances if i.package == "referral"), "varde-kommune")
        env = {
            "PARTNERSHIP_ID": self.partnership_id, "LOG_JSON": "true", "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "REFERRAL_URL": first("referral"), "JOURNEY_URL": first("journey"),
            "MATCHING_URLS": ",".join(f"{i.org_id}=http://127.0.0.1:{i.port}"
                                      for i in self.instances if i.package == "matching"),
        }
        if self.identity is not None:
            env.update({"TRUSTED_ISSUERS": self.identity.trusted_issuers_json(), "AUTH_ISSUER": self.identity.issuer(home),
                        "AUTH_CLIENT_ID": CONSOLE_CLIENT})
            if CONSOLE_CLIENT in self.identity.credentials.client_secrets.get(home, {}):
                env["AUTH_CLIENT_SECRET"] = self.identity.client_secret(home, CONSOLE_CLIENT)
        return env

    def start_console(self) -> ServiceProcess:
        """On `console_port`, or a free port when that one is taken (another stack, another program)."""
        port = self.console_port if self.console_port and not _port_open(self.console_port) else free_port()
        home = next((i.org_id for i in self.instances if i.package == "referral"), "varde-kommune")
        self.console = ServiceProcess("console", home, port, env=self.console_env(port),
                                      log_path=self.workdir / "logs" / "console.log").start()
        return self.console

    def url(self, package: str, org_id: str = "varde-kommune") -> str:
        return self.services[f"{package}@{org_id}"].url

    def stop(self) -> None:
        if self.console is not None:
            self.console.stop()
            self.console = None
        for proc in reversed(list(self.services.values())):
            proc.stop()
        self.services.clear()
        if self.smtp:
            self.smtp.stop()
            self.smtp = None
        if self.broker:
            self.broker.stop()
            self.broker = None
        if self.identity is not None and self._own_identity:
            self.identity.stop()
            self.identity = None
            self._own_identity = False

    def __enter__(self) -> "EmbeddedStack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.stop()
