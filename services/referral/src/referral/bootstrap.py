"""Composition root of the referral service: settings -> runtime, handlers, HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field, field_validator

from brobygger_runtime.citizen_keys import CitizenKeys
from brobygger_runtime import retention
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_runtime.subject_access import parse_services
from referral.adapters.key_store import KeyEncryptionKey, OwnKeys
from referral.adapters.metrics import ReferralMetrics
from referral.adapters.personal_data import personal_data
from referral.adapters.tables import metadata
from referral.entrypoints import api, batch_api, citizens_api, kafka, keys_api, subject_access_api
from referral.entrypoints.auth import Access
from referral.entrypoints.errors import install_error_handlers
from referral.service_layer.citizens import forget_ended_journeys
from referral.service_layer.referrals import Partnership


class Settings(ServiceSettings):
    service_name: str = "referral"
    http_port: int = 8001
    partnership_orgs: str = Field(
        default="",
        description="comma list of the partnership's organisations (consent may name only these); default ORG_ID alone",
    )

    subject_access_services: str = Field(
        default="",
        description="where the subject-access report asks each other service for its part: comma list of "
        "label=base URL, e.g. journey=http://journey:8003,matching@red-cross=https://matching.redcross.example",
    )

    @field_validator("subject_access_services")
    @classmethod
    def _service_urls(cls, value: str) -> str:
        parse_services(value)
        return value

    key_encryption_key: str = Field(
        default="", validate_default=True, repr=False,
        description="base64 of 32 random bytes (from a secret store): wraps every citizen's data key; required",
    )

    @field_validator("key_encryption_key")
    @classmethod
    def _a_usable_kek(cls, value: str) -> str:
        KeyEncryptionKey.from_setting(value)  # fail closed: no sealed field without it
        return value

    def partnership(self) -> Partnership:
        orgs = {o.strip() for o in self.partnership_orgs.split(",") if o.strip()} or {self.org_id}
        return Partnership(owning_org=self.org_id, orgs=frozenset(orgs | {self.org_id}))


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, metadata, "referral")
    # The data owner reads its key store in the caller's transaction: no HTTP, no cache.
    runtime.citizen_keys = CitizenKeys(OwnKeys(KeyEncryptionKey.from_setting(settings.key_encryption_key)), None,
                                       settings.org_id)
    kafka.register(runtime)
    runtime.provides_personal_data(personal_data)
    runtime.retention = retention.install(runtime, forget_ended_journeys)
    app = runtime.http_app(
        "Brobygger referral",
        routers=[batch_api.router, api.router, citizens_api.router, keys_api.router, subject_access_api.router],
        description="Referral cards, consent, triage and the closed loop to the referrer. "
        "The only service holding citizens' personal data.",
    )
    app.state.access = Access(partnership=settings.partnership())
    app.state.referral_metrics = ReferralMetrics(runtime.metrics.registry)
    install_error_handlers(app)
    return runtime, app


def create_app() -> FastAPI:
    return build()[1]
