"""Addresses as the delivery log shows them: enough to recognise, not enough to use."""

from __future__ import annotations

from urllib.parse import urlsplit

from notify.domain.model import Channel


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    digits = [c for c in number if c.isdigit()]
    return "***" + "".join(digits[-2:]) if len(digits) > 4 else "***"


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/***" if parts.hostname else "***"


def mask(channel: Channel, address: str) -> str:
    return {Channel.email: mask_email, Channel.sms: mask_phone, Channel.webhook: mask_url}[channel](address)
