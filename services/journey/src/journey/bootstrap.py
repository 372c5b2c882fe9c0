"""Composition root of the journey service: settings -> runtime, handlers, timers, HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field, field_validator

from brobygger_runtime import retention
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from journey.adapters.gauges import install_gauges
from journey.adapters.personal_data import personal_data
from journey.adapters.holiday_calendar import public_holidays, supported
from journey.adapters.tables import metadata
from journey.domain.timers import TimerPolicy
from journey.entrypoints import api, kafka, reports_api
from journey.entrypoints.scheduler import TimerScheduler
from journey.service_layer.context import Context
from journey.service_layer.journeys import forget_ended_journeys


class Settings(ServiceSettings):
    service_name: str = "journey"
    http_port: int = 8003
    first_contact_working_days: int = Field(default=3, ge=0, description="first contact due this many working days after the referral")
    urgent_first_contact_working_days: int = Field(default=1, ge=0, description="the same for referrals marked urgent")
    first_follow_up_days: int = Field(default=14, ge=1, description="first follow-up this many days after the first visit")
    follow_up_every_months: int = Field(default=1, ge=1, description="then a follow-up every this many months")
    exit_review_months: int = Field(default=8, ge=1, description="exit review this many months after the referral (Varde: 8)")
    holiday_country: str = Field(default="DK", description="whose public holidays are not working days (DK, SE, ...); empty: none")
    self_running_after_meetings: int = Field(default=3, ge=1, description="consecutive meetings without the facilitator before a group runs itself")
    match_wait_limit_days: int = Field(default=30, ge=0, description="clarified citizens waiting longer for a match are reported")
    first_visit_wait_limit_days: int = Field(default=14, ge=0, description="accepted matches waiting longer for the first visit are reported")
    ucla_after_start_months: int = Field(default=3, ge=1, description="the UCLA-3 is asked again this many months after the referral")
    ucla_after_exit_months: int = Field(default=6, ge=1, description="... and this many months after the exit")
    still_taking_part_weeks: int = Field(default=6, ge=1, description="members of a group that runs itself are asked this many weeks later whether they still take part")
    stopped_attending_after_meetings: int = Field(
        default=3, ge=1, description="recorded group meetings in a row a member missed before their place is freed")
    timer_poll_seconds: float = Field(default=30.0, gt=0, description="how often the scheduler looks for due timers")

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        country = value.strip().upper()
        if not supported(country):
            raise ValueError(f"no public holidays known for {value!r}; use a country code such as DK or SE, or leave it empty")
        return country

    def context(self) -> Context:
        policy = TimerPolicy(
            first_contact_working_days=self.first_contact_working_days,
            urgent_first_contact_working_days=self.urgent_first_contact_working_days, first_follow_up_days=self.first_follow_up_days,
            follow_up_every_months=self.follow_up_every_months, exit_review_months=self.exit_review_months,
            is_holiday=public_holidays(self.holiday_country),
            ucla_after_start_months=self.ucla_after_start_months, ucla_after_exit_months=self.ucla_after_exit_months,
            still_taking_part_weeks=self.still_taking_part_weeks,
        )
        return Context(
            org_id=self.org_id, policy=policy, self_running_after_meetings=self.self_running_after_meetings,
            match_wait_limit_days=self.match_wait_limit_days, first_visit_wait_limit_days=self.first_visit_wait_limit_days,
            retention_months_after_exit=self.retention_months_after_exit,
            stopped_attending_after_meetings=self.stopped_attending_after_meetings,
        )


class JourneyRuntime(ServiceRuntime):
    """The shared runtime plus journey's singleton timer loop, started and stopped with it."""

    def __init__(self, settings: Settings, ctx: Context) -> None:
        super().__init__(settings, metadata, "journey")
        self.ctx = ctx
        self.scheduler = TimerScheduler(self, ctx, settings.timer_poll_seconds)
        self.run_in_background(self.scheduler)
        # The same retention sweeper as every service, on journey's clock.
        self.retention = retention.install(self, lambda uow, before: forget_ended_journeys(uow, ctx, before),
                                           clock=lambda: ctx.now())


def build(settings: Settings | None = None, ctx: Context | None = None) -> tuple[JourneyRuntime, FastAPI]:
    """`ctx` lets tests inject a clock; by default it comes from the settings."""
    settings = settings or Settings()
    ctx = ctx or settings.context()
    runtime = JourneyRuntime(settings, ctx)
    kafka.register(runtime, ctx)
    runtime.provides_personal_data(personal_data)
    install_gauges(runtime, ctx)
    app = runtime.http_app(
        "Brobygger journey",
        routers=[api.router, reports_api.router],
        description="Each citizen's journey from referral to a lasting community: guides, clarification, "
        "visits, punch cards, timers, groups, exit and the partnership's reports.",
    )
    app.state.journey_context = ctx
    api.install_error_handlers(app)
    return runtime, app


def create_app() -> FastAPI:
    return build()[1]
