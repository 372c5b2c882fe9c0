"""Contact details that referral holds (citizens', and those of referrers who follow a
citizen's milestones), asked of it at send time.

Referral checks that the citizen's consent names this organisation and logs the
access; notify keeps nothing of the answer but a masked address in its log.
"""

from __future__ import annotations

import httpx

from brobygger_runtime.auth import TokenUnavailable
from notify.adapters.channels import DeliveryError
from notify.domain.model import FOLLOWING_REFERRER, Contact


class CitizenContacts:
    def __init__(self, base_url: str, auth: httpx.Auth, timeout: float) -> None:
        """`auth`: this notify's client-credentials tokens (role `service`)."""
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout

    async def fetch(self, recipient_id: str) -> Contact | None:
        """The details, or None when referral refuses (no consent, not following), does not know
        the recipient, or erased them."""
        if recipient_id.startswith(FOLLOWING_REFERRER):
            role, url = "referrer", f"{self.base_url}/referrals/{recipient_id.removeprefix(FOLLOWING_REFERRER)}/referrer-contact"
        else:
            role, url = "citizen", f"{self.base_url}/citizens/{recipient_id}/contact"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, auth=self.auth) as client:
                response = await client.get(url)
        except httpx.TransportError as exc:
            raise DeliveryError(f"citizen contact lookup failed: {exc!r}", retryable=True) from exc
        except TokenUnavailable as exc:  # our own issuer is away or refuses us: try again later
            raise DeliveryError(f"no token for the citizen contact lookup: {exc}", retryable=True) from exc
        if response.status_code in (403, 404, 410):
            return None
        if not response.is_success:
            raise DeliveryError(f"citizen contact lookup answered {response.status_code}",
                                retryable=response.status_code >= 500 or response.status_code == 429)
        data = response.json()
        return Contact(recipient_id=recipient_id, role=role, display_name=data["name"],
                       language=data.get("language") or "da", email=data.get("email"), phone=data.get("phone"))
