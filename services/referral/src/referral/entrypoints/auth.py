"""What the routes need besides the caller: the partnership, the runtime, the metrics.

Who is calling comes from the runtime: every route declares exactly one
`Depends(requires(...))` with the roles it admits (DESIGN.md section 9); the
verified token gives the caller's subject, organisation (from the issuer that
signed it) and roles. There is no way to switch authentication off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from referral.adapters.metrics import ReferralMetrics
from referral.service_layer.referrals import Partnership


@dataclass(frozen=True)
class Access:
    partnership: Partnership


def access_of(request: Request) -> Access:
    return request.app.state.access


def metrics_of(request: Request) -> ReferralMetrics:
    return request.app.state.referral_metrics


Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
AccessDep = Annotated[Access, Depends(access_of)]
Metrics = Annotated[ReferralMetrics, Depends(metrics_of)]
