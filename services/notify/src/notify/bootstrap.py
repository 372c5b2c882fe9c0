"""Composition root of notify: settings -> runtime, rules, templates, channels, dispatcher, app."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field, field_validator

from brobygger_runtime import retention
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from notify.adapters.personal_data import personal_data
from notify.adapters.channels import EmailChannel, SmsChannel, WebhookChannel
from notify.adapters.citizen_contacts import CitizenContacts
from notify.adapters.rules_file import load_rule_book
from notify.adapters.tables import metadata
from notify.adapters.templates import TemplateLibrary
from notify.adapters.webhook_address import Resolver, WebhookPolicy
from notify.domain.model import QuietHours
from notify.entrypoints import api, kafka
from notify.service_layer import notifications
from notify.service_layer.dispatch import Dispatcher, DispatchPolicy


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_start_tls: bool = False
    smtp_timeout_seconds: float = Field(default=5.0, gt=0, description="keep below LEASE_SECONDS")
    mail_from: str = "brobygger@localhost"

    sms_gateway_url: str = Field(default="", description="HTTP endpoint that takes {to, sender, text, reference} as JSON")
    sms_sender: str = "Brobygger"
    sms_timeout_seconds: float = Field(default=5.0, gt=0)

    webhook_secret: str = Field(default="", description="HMAC-SHA256 key for the X-Brobygger-Signature header")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_allowed_hosts: str = Field(
        default="", description="comma list of `host` or `host:port` an operator allows as webhook targets although "
        "they are not public or not https (an internal endpoint); every other webhook must be https to public addresses")

    citizen_contact_url: str = Field(default="", description="referral's base URL; citizens' details are asked for at send time")
    citizen_contact_timeout_seconds: float = Field(default=5.0, gt=0)

    notify_rules_file: str = Field(default="", description="JSON rules; default: bundled rules/<partnership>.json or default.json")

    delivery_max_attempts: int = Field(default=5, ge=1)
    delivery_backoff_seconds: float = Field(default=2.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=300.0, gt=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=60.0, gt=0)
    dispatcher_poll_seconds: float = Field(default=1.0, gt=0)
    dispatcher_batch_size: int = Field(default=50, ge=1)
    quiet_hours: str = Field(default="21:00-08:00", description="default no-SMS window, recipients' local time")
    timezone: str = Field(default="Europe/Copenhagen", description="default zone of recipients' quiet hours")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    def dispatch_policy(self) -> DispatchPolicy:
        return DispatchPolicy(
            max_attempts=self.delivery_max_attempts, backoff_seconds=self.delivery_backoff_seconds,
            backoff_max_seconds=self.delivery_backoff_max_seconds, breaker_threshold=self.breaker_failure_threshold,
            breaker_cooldown_seconds=self.breaker_cooldown_seconds, poll_seconds=self.dispatcher_poll_seconds,
            batch_size=self.dispatcher_batch_size, quiet_hours=QuietHours.parse(self.quiet_hours), timezone=self.timezone,
        )


class NotifyRuntime(ServiceRuntime):
    """The shared runtime, with the dispatcher that runs in its background."""

    dispatcher: Dispatcher
    webhook_policy: WebhookPolicy
    retention: retention.RetentionSweeper


def build(settings: Settings | None = None, dispatcher_clock=None,  # noqa: ANN001
          webhook_resolver: Resolver | None = None) -> tuple[NotifyRuntime, FastAPI]:
    """`webhook_resolver`: how webhook hosts are resolved (tests give their own DNS)."""
    settings = settings or Settings()
    runtime = NotifyRuntime(settings, metadata, service_package="notify")
    runtime.webhook_policy = WebhookPolicy.from_setting(settings.webhook_allowed_hosts, webhook_resolver)
    templates = TemplateLibrary()
    rules = load_rule_book(settings.notify_rules_file or None, settings.partnership_id, templates)
    channels = [
        EmailChannel(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_timeout_seconds,
                     settings.smtp_username, settings.smtp_password, settings.smtp_start_tls),
        SmsChannel(settings.sms_gateway_url, settings.sms_sender, settings.sms_timeout_seconds),
        WebhookChannel(settings.webhook_secret, settings.webhook_timeout_seconds, runtime.webhook_policy),
    ]
    citizens = None
    if settings.citizen_contact_url:
        citizens = CitizenContacts(settings.citizen_contact_url, runtime.service_tokens.httpx_auth(),
                                   settings.citizen_contact_timeout_seconds)
    else:
        rules = rules.without_role("citizen")  # nobody to ask for citizens' details
    extra = {"clock": dispatcher_clock} if dispatcher_clock else {}
    runtime.dispatcher = Dispatcher(runtime, templates, channels, settings.dispatch_policy(),
                                    citizen_contacts=citizens, **extra)
    runtime.run_in_background(runtime.dispatcher)  # stops before the relay drains the outbox
    runtime.gauge_refresher(runtime.dispatcher.refresh_gauges)
    kafka.register(runtime, rules)
    runtime.provides_personal_data(personal_data)
    runtime.retention = retention.install(runtime, notifications.forget_ended_journeys)
    app = runtime.http_app(
        "Brobygger notify",
        routers=[api.router],
        description="Tells the right person, once, in their language: contact directory, delivery log.",
    )
    return runtime, app


def create_app() -> FastAPI:
    return build()[1]
