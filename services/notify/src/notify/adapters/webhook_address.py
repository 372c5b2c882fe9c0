"""Where a webhook may go (DESIGN.md section 9): HTTPS to public addresses only.

A webhook URL is given by a user, so notify must not become a way into the
private network. The host is resolved and EVERY address it resolves to must be
global (not loopback, private, link-local, multicast, reserved, unspecified,
shared, IPv6 ULA/link-local, nor an IPv4 address wrapped in IPv6 that is one
of those). This is checked when the contact is registered and again at every
send (DNS can change), and the send connects to the address that was checked
(no second resolution): the URL's host is replaced by the checked IP while the
Host header and the TLS server name (SNI, certificate check) stay the name.

An operator may allow hosts (`WEBHOOK_ALLOWED_HOSTS`, comma list of `host` or
`host:port`) for exceptions such as an internal endpoint; those are neither
required to use HTTPS nor checked for public addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the addresses the host resolves to (strings)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookRefused(ValueError):
    """The URL or one of its addresses is not allowed; `reason` says why (no secret in it)."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    """A global unicast address, and so is every IPv4 address it wraps."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return False
    if (not address.is_global or address.is_multicast or address.is_loopback or address.is_link_local
            or address.is_private or address.is_reserved or address.is_unspecified):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(is_public(inner) for inner in _embedded_ipv4(address))
    return True


@dataclass(frozen=True)
class Target:
    """A checked webhook: where to connect (`connect_url`, the checked IP unless the
    host is allowed by the operator) and the name to keep in Host and SNI."""

    url: str
    host: str
    connect_url: str
    pinned: bool

    def request_extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.host} if self.pinned else {}

    def request_headers(self) -> dict[str, str]:
        return {"Host": _host_header(httpx.URL(self.url))} if self.pinned else {}


def _host_header(url: httpx.URL) -> str:
    host = url.host if ":" not in url.host else f"[{url.host}]"
    return host if url.port is None else f"{host}:{url.port}"


def _parse_allowed(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(e.strip().lower().strip("[]") if e.count(":") > 1 else e.strip().lower()
                     for e in entries if e.strip())


@dataclass(frozen=True)
class WebhookPolicy:
    allowed_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def from_setting(cls, allowed_hosts: str, resolver: Resolver | None = None) -> "WebhookPolicy":
        return cls(_parse_allowed(allowed_hosts.split(",")), resolver or system_resolver)

    def allowed(self, host: str, port: int) -> bool:
        return host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts

    async def check(self, url: str) -> Target:
        """The target to connect to, or WebhookRefused with the reason."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise WebhookRefused("the webhook URL cannot be parsed") from exc
        scheme, host = parsed.scheme, (parsed.host or "").lower()
        if scheme not in ("http", "https") or not host:
            raise WebhookRefused("a webhook URL needs https:// and a host")
        if parsed.userinfo:
            raise WebhookRefused("a webhook URL must not carry a user name or password")
        port = parsed.port or (443 if scheme == "https" else 80)
        if self.allowed(host, port):
            return Target(url=url, host=host, connect_url=url, pinned=False)
        if scheme != "https":
            raise WebhookRefused("a webhook must use https (plain http only for hosts in WEBHOOK_ALLOWED_HOSTS)")
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                resolved = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise WebhookRefused(f"the webhook host {host} does not resolve", retryable=True) from exc
            try:
                addresses = [ipaddress.ip_address(a) for a in resolved]
            except ValueError as exc:
                raise WebhookRefused(f"the webhook host {host} resolves to something that is not an address") from exc
            if not addresses:
                raise WebhookRefused(f"the webhook host {host} does not resolve", retryable=True)
        if not all(is_public(a) for a in addresses):
            raise WebhookRefused(f"the webhook host {host} resolves to a non-public address "
                                 "(loopback, private, link-local, multicast or reserved): refused")
        chosen = addresses[0]
        connect_url = str(parsed.copy_with(host=str(chosen)))
        return Target(url=url, host=host, connect_url=connect_url, pinned=literal is None)
