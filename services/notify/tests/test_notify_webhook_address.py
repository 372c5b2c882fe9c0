"""Where a webhook may go, without a broker: https to public addresses only, every resolved
address checked, the operator's allow-list as the only exception; and every route guarded."""

from __future__ import annotations

import ipaddress

import pytest

from brobygger_runtime.auth import Role
from brobygger_runtime.auth.route_guard import route_policies

from notify.adapters.webhook_address import WebhookPolicy, WebhookRefused, is_public
from notify.bootstrap import build
from notify_testkit import notify_settings


def resolving(*addresses: str):  # noqa: ANN201
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)
    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd12:3456::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1",
])
def test_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(("url", "resolved", "why"), [
    ("http://hooks.example.org/x", ["93.184.216.34"], "https"),
    ("https://127.0.0.1/x", [], "non-public"),
    ("https://169.254.169.254/latest/meta-data", [], "non-public"),
    ("https://[::1]/x", [], "non-public"),
    ("https://[::ffff:192.168.0.1]/x", [], "non-public"),
    ("https://internal.example/x", ["10.0.0.7"], "non-public"),
    ("https://half.example/x", ["93.184.216.34", "127.0.0.1"], "non-public"),  # every address counts
    ("https://user:pw@hooks.example.org/x", ["93.184.216.34"], "user name"),
    ("ftp://hooks.example.org/x", ["93.184.216.34"], "https"),
])
async def test_refused(url, resolved, why):
    with pytest.raises(WebhookRefused, match=why):
        await WebhookPolicy.from_setting("", resolving(*resolved)).check(url)


async def test_a_public_host_is_pinned_to_the_checked_address_with_its_name_kept():
    target = await WebhookPolicy.from_setting("", resolving("93.184.216.34")).check("https://Hooks.Example.org:8443/in?a=1")
    assert target.connect_url == "https://93.184.216.34:8443/in?a=1"
    assert target.request_headers() == {"Host": "hooks.example.org:8443"}
    assert target.request_extensions() == {"sni_hostname": "hooks.example.org"}  # TLS name and certificate check


async def test_the_operator_allow_list_is_the_exception():
    policy = WebhookPolicy.from_setting("127.0.0.1, relay.internal:8443", resolving("10.0.0.7"))
    assert (await policy.check("http://127.0.0.1:9000/x")).connect_url == "http://127.0.0.1:9000/x"
    assert (await policy.check("https://relay.internal:8443/x")).pinned is False
    with pytest.raises(WebhookRefused):
        await policy.check("https://relay.internal/x")  # another port is not allowed


async def test_a_host_that_does_not_resolve_is_refused_for_now():
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookRefused, match="does not resolve") as refused:
        await WebhookPolicy.from_setting("", nxdomain).check("https://gone.example/x")
    assert refused.value.retryable


def test_every_route_states_who_may_call_it(kafka_bootstrap):
    _runtime, app = build(notify_settings(kafka_bootstrap, "sqlite+aiosqlite:///:memory:"))
    guarded = {(method, path): roles for method, path, roles in route_policies(app)}
    assert None not in guarded.values()  # no route without `requires(...)`
    assert guarded == {
        ("POST", "/contacts"): {Role.coordinator},
        ("GET", "/contacts/{recipient_id}"): {Role.coordinator},
        ("GET", "/deliveries"): {Role.coordinator, Role.operator},
        ("POST", "/deliveries/{notification_id}/resend"): {Role.coordinator},
        ("GET", "/deliveries/{notification_id}/letter"): {Role.guide, Role.coordinator},  # the citizen's guide
        ("GET", "/citizens/{citizen_id}/access-log"): {Role.coordinator},  # the runtime's
        ("GET", "/citizens/{citizen_id}/personal-data"): {Role.coordinator, Role.service},  # the runtime's
    }
