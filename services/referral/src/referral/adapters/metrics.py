"""Referral's own figures for the partnership's dashboard, in the service's metrics registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ReferralMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "brobygger_referrals_received_total", "Referral cards accepted, by source and whether the citizen was known",
            ["source", "repeat"], registry=registry,
        )
        self.refused = Counter("brobygger_referrals_refused_total", "Referral cards refused as invalid (422)", registry=registry)
        self.triaged = Counter("brobygger_referrals_triaged_total", "Triage decisions, by decision", ["decision"], registry=registry)
        self.erased = Counter("brobygger_citizens_erased_total", "Citizens erased on request", registry=registry)
        self.contact_requests = Counter(
            "brobygger_contact_requests_total", "Requests for a citizen's contact details, by organisation and outcome",
            ["org", "granted"], registry=registry,
        )
