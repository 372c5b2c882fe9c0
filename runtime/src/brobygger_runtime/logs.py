"""Structured JSON logs; every line carries the event id and subject being handled."""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

current_event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
current_subject: contextvars.ContextVar[str | None] = contextvars.ContextVar("subject", default=None)


class _EventContext(logging.Filter):
    def __init__(self, service: str, org: str) -> None:
        super().__init__()
        self.service = service
        self.org = org

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.org = self.org
        record.event_id = current_event_id.get()
        record.subject = current_subject.get()
        return True


def configure_logging(service: str, org: str, level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(org)s %(event_id)s %(subject)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(service)s %(name)s: %(message)s"))
    handler.addFilter(_EventContext(service, org))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "sqlalchemy.engine", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
