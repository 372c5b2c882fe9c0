"""Base class of every event on the bus.

Strict on publish: an event built in Python refuses unknown fields and is
immutable. Tolerant on read: `read_payload` drops fields this version does not
know before validating, so an older consumer keeps working when a producer adds
an optional field (the only change allowed within a major version).
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A value carried inside an event: strict, immutable, documented."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Event(WireModel):
    """An integration event. Subclasses declare who publishes them."""

    publisher: ClassVar[str]
    """The one service that owns (publishes) this event type."""
    version: ClassVar[int] = 1
    subject_field: ClassVar[str] = "citizen_id"
    """The field whose value becomes `ce_subject` and the Kafka key."""

    def __init_subclass__(cls, publisher: str | None = None, subject: str | None = None, **kw: Any):
        super().__init_subclass__(**kw)
        if publisher is not None:
            cls.publisher = publisher
        if subject is not None:
            cls.subject_field = subject

    @classmethod
    def event_type(cls) -> str:
        """CloudEvents `type`, e.g. `org.brobygger.referral.ReferralReceived.v1`."""
        return f"org.brobygger.{cls.publisher}.{cls.__name__}.v{cls.version}"

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (directly, in a list or an Optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset, typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            found.extend(_model_types(arg))
        return found
    return []


@functools.cache
def _reading_plan(model: type[BaseModel]) -> tuple[tuple[str, type[BaseModel] | None], ...]:
    """Per field of `model`: its wire name and the one nested model it holds, if any
    (worked out once per model: reading is on every consumer's hot path)."""
    plan = []
    for name, field in model.model_fields.items():
        nested = _model_types(field.annotation)
        plan.append((field.alias or name, nested[0] if len(nested) == 1 else None))
    return tuple(plan)


def _drop_unknown(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    known: dict[str, Any] = {}
    for key, nested in _reading_plan(model):
        if key not in data:
            continue
        value = data[key]
        if nested is not None:
            if isinstance(value, list):
                value = [_drop_unknown(nested, item) for item in value]
            else:
                value = _drop_unknown(nested, value)
        known[key] = value
    return known


def read_payload(model: type[Event], data: Any) -> Event:
    """Validate a received payload, ignoring fields this version does not know."""
    return model.model_validate(_drop_unknown(model, data))
