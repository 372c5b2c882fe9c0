"""The real channels: e-mail through SMTP, SMS through an HTTP gateway, a signed webhook.

Each channel raises `DeliveryError` saying whether the message surely did not
arrive (safe to retry), or may have arrived (never retried automatically).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import httpx

from notify.adapters.webhook_address import WebhookPolicy, WebhookRefused
from notify.domain.model import Channel, message_id


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: uuid.UUID
    source_event_id: str
    template: str
    language: str
    address: str
    subject: str
    body: str
    signing_secret: str | None = field(default=None, repr=False)
    """The recipient's own webhook key, when they gave one."""


class DeliveryError(Exception):
    """A failed try. `cause` is kept in the delivery log (last_error) and published in
    NotificationFailed, so it is a short fixed text, an error class or a status code:
    never a server's own words, which may echo the address or the message."""

    def __init__(self, cause: str, *, retryable: bool, maybe_delivered: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause[:500]
        self.retryable = retryable and not maybe_delivered
        self.maybe_delivered = maybe_delivered


class EmailChannel:
    channel = Channel.email

    def __init__(self, host: str, port: int, mail_from: str, timeout: float,
                 username: str | None = None, password: str | None = None, start_tls: bool = False) -> None:
        self.host, self.port, self.mail_from, self.timeout = host, port, mail_from, timeout
        self.username, self.password, self.start_tls = username, password, start_tls
        self.domain = mail_from.rpartition("@")[2] or "brobygger.local"

    def build(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.mail_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.notification_id, self.domain)
        mail["Content-Language"] = message.language
        mail["X-Brobygger-Notification"] = str(message.notification_id)
        mail.set_content(message.body)
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=self.timeout, start_tls=self.start_tls)
        try:
            await smtp.connect()
            if self.username:
                await smtp.login(self.username, self.password or "")
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Nothing was handed over yet: safe to try again later.
            raise DeliveryError(f"SMTP connect to {self.host}:{self.port} failed: {type(exc).__name__}", retryable=True) from exc
        try:
            await smtp.send_message(self.build(message))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(f"SMTP refused the recipient: {codes}", retryable=all(c < 500 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # The server answered with a refusal, so it did not take the message.
            raise DeliveryError(f"SMTP {exc.code}", retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Timeout or disconnect mid-conversation: the server may have queued it.
            raise DeliveryError(f"SMTP conversation broke off: {type(exc).__name__}", retryable=False, maybe_delivered=True) from exc
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


def _http_outcome(response: httpx.Response, what: str) -> None:
    """Only the status code counts: the answer's body is never read, stored, logged or passed on
    (a receiver's answer is theirs, and a webhook must not become a way to read an endpoint)."""
    if response.is_success:
        return
    retryable = response.status_code == 429 or response.status_code >= 500
    raise DeliveryError(f"{what} answered {response.status_code}", retryable=retryable)


async def _post(url: str, timeout: float, what: str, *, extensions: dict | None = None, **kwargs) -> None:  # noqa: ANN003
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            # streamed and closed unread: the body of the answer is never taken in
            async with client.stream("POST", url, extensions=extensions, **kwargs) as response:
                pass
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise DeliveryError(f"{what} unreachable: {type(exc).__name__}", retryable=True) from exc
    except httpx.TransportError as exc:
        # The request may have reached it; its idempotency key lets it drop a repeat,
        # but we do not count on that.
        raise DeliveryError(f"{what} did not answer: {type(exc).__name__}", retryable=False, maybe_delivered=True) from exc
    _http_outcome(response, what)


class SmsChannel:
    """Posts `{to, sender, text, reference}` as JSON to SMS_GATEWAY_URL."""

    channel = Channel.sms
    max_length = 1600

    def __init__(self, gateway_url: str, sender: str, timeout: float) -> None:
        self.gateway_url, self.sender, self.timeout = gateway_url, sender, timeout

    async def send(self, message: OutgoingMessage) -> None:
        if not self.gateway_url:
            raise DeliveryError("SMS_GATEWAY_URL is not set", retryable=False)
        text = f"{message.subject}\n\n{message.body}"[: self.max_length]
        payload = {"to": message.address, "sender": self.sender, "text": text, "reference": str(message.notification_id)}
        await _post(self.gateway_url, self.timeout, "SMS gateway", json=payload,
                    headers={"Idempotency-Key": str(message.notification_id)})


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`; the receiver recomputes it."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel:
    """Posts the message as JSON to the recipient's URL, signed with the recipient's own key, else WEBHOOK_SECRET.

    The URL is checked again at send time (`WebhookPolicy`: https, every resolved address
    public, unless the operator allowed the host) and the request goes to the address that
    was checked; redirects are not followed; only the answer's status code is kept.
    """

    channel = Channel.webhook

    def __init__(self, secret: str, timeout: float, policy: WebhookPolicy | None = None) -> None:
        self.secret, self.timeout = secret, timeout
        self.policy = policy or WebhookPolicy()

    async def send(self, message: OutgoingMessage) -> None:
        secret = message.signing_secret or self.secret
        if not secret:
            raise DeliveryError("neither the recipient's webhook_secret nor WEBHOOK_SECRET is set: refusing to send unsigned",
                                retryable=False)
        body = json.dumps({
            "notification_id": str(message.notification_id),
            "source_event_id": message.source_event_id,
            "template": message.template,
            "language": message.language,
            "subject": message.subject,
            "text": message.body,
        }).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Brobygger-Delivery": str(message.notification_id),
            "X-Brobygger-Timestamp": timestamp,
            "X-Brobygger-Signature": webhook_signature(secret, timestamp, body),
        }
        try:
            target = await self.policy.check(message.address)
        except WebhookRefused as exc:
            raise DeliveryError(f"webhook address refused: {exc.reason}", retryable=exc.retryable) from exc
        await _post(target.connect_url, self.timeout, "webhook", content=body,
                    headers={**headers, **target.request_headers()}, extensions=target.request_extensions())
