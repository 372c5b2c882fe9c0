"""Who is calling: an API key per organisation and role (`Authorization: Bearer <key>`).

With no keys configured (API_KEYS empty) authentication is off and every caller
acts as staff of the owning organisation: for the embedded demo and local runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from referral.adapters.metrics import ReferralMetrics
from referral.domain.access import Caller, Role
from referral.service_layer.referrals import Partnership

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key>; not needed when API_KEYS is empty")


@dataclass(frozen=True)
class Access:
    partnership: Partnership
    keys: dict[str, Caller]


class NotAuthenticated(Exception):
    """No or an unknown credential (answered 401)."""


def access_of(request: Request) -> Access:
    return request.app.state.access


def caller_of(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    access = access_of(request)
    if not access.keys:
        return Caller(org=access.partnership.owning_org, role=Role.staff, key_name="anonymous")
    if credentials is None:
        raise NotAuthenticated("send Authorization: Bearer <key>")
    caller = access.keys.get(credentials.credentials)
    if caller is None:
        raise NotAuthenticated("unknown API key")
    return caller


def metrics_of(request: Request) -> ReferralMetrics:
    return request.app.state.referral_metrics


Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
CallerDep = Annotated[Caller, Depends(caller_of)]
AccessDep = Annotated[Access, Depends(access_of)]
Metrics = Annotated[ReferralMetrics, Depends(metrics_of)]
