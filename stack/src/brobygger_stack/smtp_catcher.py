"""An SMTP server that keeps what it receives: the embedded stack's mail
catcher and the tests' real SMTP peer (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import mailbox
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from brobygger_stack.embedded_kafka import free_port


@dataclass
class CaughtMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part else ""


@dataclass
class _Handler:
    maildir: mailbox.Maildir | None
    caught: list[CaughtMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.caught.append(CaughtMail(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            if self.maildir is not None:
                self.maildir.add(envelope.content)
        return "250 Message accepted for delivery"


class SmtpCatcher:
    """Runs in a background thread; `messages` lists what arrived, in order."""

    def __init__(self, port: int = 0, maildir: str | Path | None = None) -> None:
        self.port = port or free_port()
        box = mailbox.Maildir(str(maildir), create=True) if maildir else None
        self._handler = _Handler(box)
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[CaughtMail]:
        with self._handler.lock:
            return list(self._handler.caught)

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.caught.clear()

    def start(self) -> "SmtpCatcher":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpCatcher":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def count_in_maildir(maildir: str | Path) -> int:
    """Messages a catcher in another process stored: for crash tests across processes."""
    return len(mailbox.Maildir(str(maildir), create=False))
