"""Composition root of the referral service: settings -> runtime, handlers, HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field

from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from referral.adapters.metrics import ReferralMetrics
from referral.adapters.tables import metadata
from referral.entrypoints import api, batch_api, citizens_api, kafka
from referral.entrypoints.auth import Access
from referral.entrypoints.errors import install_error_handlers
from referral.service_layer.referrals import Partnership


class Settings(ServiceSettings):
    service_name: str = "referral"
    http_port: int = 8001
    partnership_orgs: str = Field(
        default="",
        description="comma list of the partnership's organisations (consent may name only these); default ORG_ID alone",
    )

    def partnership(self) -> Partnership:
        orgs = {o.strip() for o in self.partnership_orgs.split(",") if o.strip()} or {self.org_id}
        return Partnership(owning_org=self.org_id, orgs=frozenset(orgs | {self.org_id}))


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, metadata, "referral")
    kafka.register(runtime)
    app = runtime.http_app(
        "Brobygger referral",
        routers=[batch_api.router, api.router, citizens_api.router],
        description="Referral cards, consent, triage and the closed loop to the referrer. "
        "The only service holding citizens' personal data.",
    )
    app.state.access = Access(partnership=settings.partnership())
    app.state.referral_metrics = ReferralMetrics(runtime.metrics.registry)
    install_error_handlers(app)
    return runtime, app


def create_app() -> FastAPI:
    return build()[1]
