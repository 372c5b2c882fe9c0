"""The console's settings: the shared ones (HTTP_PORT, TRUSTED_ISSUERS, ORG_ID
as the home organisation, ...) and where the other services answer."""

from __future__ import annotations

from pydantic import Field

from brobygger_runtime.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    service_name: str = "console"
    http_port: int = 8000

    public_url: str = Field(
        default="", description="the address people open, e.g. https://console.varde.example; "
        "default http://127.0.0.1:<HTTP_PORT>. Its /callback is the login redirect; https makes the cookies Secure")
    login_client_id: str = Field(
        default="brobygger-cli", description="the public OAuth client people log in with (authorization code + PKCE)")
    referral_url: str = Field(default="http://127.0.0.1:8001", description="referral's API")
    journey_url: str = Field(default="http://127.0.0.1:8003", description="journey's API")
    matching_urls: str = Field(
        default="varde-kommune=http://127.0.0.1:8002", description="every matching instance: "
        "org=URL, comma-separated (proposals are shown from each; the volunteer and coordinator pages use the "
        "person's own organisation's)")
    session_minutes: int = Field(default=480, ge=5, description="a session ends this long after the last request")
    request_timeout_seconds: float = Field(default=10.0, gt=0)

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def matching(self) -> dict[str, str]:
        """org -> URL of each matching instance."""
        pairs = (item.split("=", 1) for item in self.matching_urls.split(",") if "=" in item)
        return {org.strip(): url.strip().rstrip("/") for org, url in pairs}
