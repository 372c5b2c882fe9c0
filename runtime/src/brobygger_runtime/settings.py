"""Configuration from environment variables, the same names in every service."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from brobygger_contracts.catalogue import check_id


class ServiceSettings(BaseSettings):
    """What every service instance reads at start-up.

    A service instance runs for one organisation (`ORG_ID`) inside one
    partnership (`PARTNERSHIP_ID`).
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    service_name: str = Field(default="", description="referral, matching, journey or notify")
    partnership_id: str = Field(default="demo", description="lowercase letters, digits and hyphens: part of topic names")
    org_id: str = Field(default="varde-kommune", description="lowercase letters, digits and hyphens: part of topic names")
    instance_id: str = Field(default="", description="this replica's name; defaults to host and pid")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_enable_idempotence: bool = Field(
        default=False, description="on for Apache Kafka; Tansu cannot serve idempotent producers"
    )
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle for SSL/SASL_SSL; the system's when empty")
    kafka_session_timeout_ms: int = Field(
        default=6000, ge=1000,
        description="how soon the group notices a replica that died (Kafka's minimum is 6000; Tansu also takes half of it to let a member join)"
    )

    database_url: str = Field(default="", description="SQLAlchemy async URL; default a SQLite file per service")
    data_dir: str = ".brobygger/data"

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="the largest request body any route accepts (413 above it), checked before reading it whole",
    )

    trusted_issuers: str = Field(
        default="",
        description='JSON object issuer URL -> organisation, e.g. {"https://id.example/realms/varde-kommune": '
        '"varde-kommune"}; an issuer is trusted only for its own organisation; empty refuses to start',
    )
    auth_audience: str = Field(default="brobygger", description="the audience (aud) a token must name")
    auth_plain_http_hosts: str = Field(
        default="",
        description="comma-separated issuer hosts allowed over plain http (a private container network such as "
        "compose's 'keycloak'); every other non-loopback issuer needs https",
    )
    auth_issuer: str = Field(
        default="", description="this organisation's own issuer, for the service's client-credentials tokens "
        "(calls to other services); empty: the first TRUSTED_ISSUERS entry of ORG_ID",
    )
    auth_client_id: str = Field(default="", description="this service's OAuth client id; empty: brobygger-<service>")
    auth_client_secret: str = Field(default="", description="this service's OAuth client secret (from a secret store)")

    citizen_keys_url: str = Field(
        default="", description="referral's citizen key endpoint (POST, e.g. http://referral:8001/citizen-keys): "
        "where this service gets the data keys of sealed fields; empty: sealed events wait (never skipped)",
    )
    citizen_key_cache_size: int = Field(default=10_000, ge=0, description="data keys kept in memory at most")
    citizen_key_cache_seconds: float = Field(
        default=300.0, ge=0, description="how long a data key is kept in memory before it is asked for again"
    )

    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; off when empty"
    )

    log_level: str = "INFO"
    log_json: bool = True

    handler_max_attempts: int = Field(default=3, ge=1, description="tries before a failing event is dead-lettered")
    handler_backoff_seconds: float = Field(default=0.2, gt=0)
    handler_backoff_max_seconds: float = Field(default=30.0, gt=0)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_retention_days: int = Field(default=30, ge=0)
    retention_months_after_exit: int = Field(
        default=12, ge=1, description="personal data of an ended journey is deleted this many months after its exit "
        "(every service that keeps any: the same setting everywhere)")
    retention_check_seconds: float = Field(default=600.0, gt=0, description="how often the retention sweep looks")
    broker_reset_check_seconds: float = Field(
        default=30.0, gt=0, description="how often the relay checks that the broker still has what it published"
    )
    lease_seconds: float = Field(default=10.0, gt=0)
    consumer_batch_size: int = Field(default=200, ge=1, description="records handled in one database transaction")
    consumer_fetch_max_wait_ms: int = Field(
        default=100, ge=0, description="how long a fetch waits on the broker for new records (latency vs. idle requests)"
    )
    max_event_bytes: int = Field(
        default=1_048_576, ge=1024, description="larger records (body and headers) are dead-lettered as too_large"
    )
    gauge_refresh_seconds: float = Field(default=10.0, gt=0, description="how often lag and domain gauges are refreshed")
    kafka_ensure_topics: bool = Field(
        default=True, description="create this instance's own topic and its .dlt at start-up when missing (the "
        "embedded broker); where the broker refuses (ACLs), /health/ready says which topic is missing"
    )
    kafka_metadata_max_age_ms: int = Field(
        default=30_000, ge=100, description="how often the consumer re-reads the topic list, so that a topic of an "
        "organisation that joined later is subscribed without a restart"
    )

    @field_validator("partnership_id")
    @classmethod
    def _partnership_in_topic_names(cls, value: str) -> str:
        return check_id("PARTNERSHIP_ID", value)

    @field_validator("org_id")
    @classmethod
    def _org_in_topic_names(cls, value: str) -> str:
        return check_id("ORG_ID", value)

    @property
    def group_id(self) -> str:
        """The consumer group of this service instance: one per partnership, org and service."""
        return f"{self.partnership_id}.{self.org_id}.{self.service_name}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir}/{self.org_id}-{self.service_name}.db"
