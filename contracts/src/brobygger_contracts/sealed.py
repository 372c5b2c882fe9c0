"""Sealed fields (DESIGN.md section 2): what is sensitive about a citizen
travels encrypted under that citizen's data key, in one `sealed` field.

On the wire an event with a sealed part looks like

    {"referral_id": "...", "citizen_id": "...", ..., "sealed":
        {"v": 1, "alg": "A256GCM", "nonce": "<base64, 12 bytes>", "ciphertext": "<base64>"}}

The ciphertext is AES-256-GCM over the JSON of the event's plaintext model
(e.g. `ReferralReceivedSealed`), with a random 96-bit nonce; the 16-byte tag
ends the ciphertext, as the `cryptography` package writes it. The associated
data (`associated_data`) is the event type and the subject id, so a box moved
to another event type or another citizen's event does not open.

Only the citizen's data owner (referral) keeps the keys; organisations named
in the citizen's current consent may ask for them. Erasing the key makes every
copy of every box of that citizen unreadable (crypto-shredding).

Models only: the cryptography lives in the runtime (`brobygger_runtime.sealing`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import Field, PrivateAttr

from brobygger_contracts.base import Event, WireModel

SEALED_FIELD = "sealed"
"""The one payload field that carries an event's box."""
PART_SCHEMA_KEY = "x-sealed-part"
"""Where an event's JSON Schema documents the plaintext of its box."""

_BASE64 = r"^[A-Za-z0-9+/]*={0,2}$"


class SealedBox(WireModel):
    """An event's sensitive fields, encrypted under the citizen's data key (version 1: AES-256-GCM)."""

    v: Literal[1] = 1
    """Version of the box format; a new algorithm or layout is a new version."""
    alg: Literal["A256GCM"] = "A256GCM"
    """AES-256 in Galois/Counter mode (the JOSE name)."""
    nonce: str = Field(min_length=16, max_length=16, pattern=_BASE64)
    """The 96-bit random nonce, base64 (standard alphabet, padded)."""
    ciphertext: str = Field(min_length=24, max_length=200_000, pattern=_BASE64)
    """The encrypted JSON of the event's plaintext model followed by the 128-bit tag, base64."""


class SealedPart(WireModel):
    """Base of the plaintext models: what a box holds once opened (never on the wire in clear)."""


def associated_data(event_type: str, subject: str) -> bytes:
    """What the box is bound to: its event type (`ce_type`) and subject id (`ce_subject`)."""
    return f"brobygger-sealed-v1\n{event_type}\n{subject}".encode()


class SealedPartUnavailable(LookupError):
    """The event's sealed part was not opened (no key, or the event was read without one)."""


class SealedEvent(Event):
    """An event with a sealed part: `sealed` on the wire, `opened` in memory.

    Built in Python with every field, clear and sealed alike
    (`ReferralReceived(citizen_id=..., postal_code="6800", ...)`): the fields of
    the plaintext model go to the `opened` part and never into the clear JSON.
    The publisher's runtime seals `opened` into `sealed` when it writes the
    event to its outbox; the consumer's runtime opens `sealed` before the
    handler runs, which reads them as `event.opened.postal_code`.
    """

    sealed_part: ClassVar[type[SealedPart]]
    """The plaintext model of this event's box."""

    sealed: SealedBox | None = None
    """The sensitive fields, encrypted under the citizen's data key (see the event's `...Sealed` model).
    Empty only where an erasure stripped it."""

    _opened: SealedPart | None = PrivateAttr(default=None)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The wire schema, naming what the box holds: the plaintext model's schema
        under `x-sealed-part` (its definitions joined to the event's `$defs`)."""
        schema = super().model_json_schema(*args, **kwargs)
        if hasattr(cls, "sealed_part"):
            part = dict(cls.sealed_part.model_json_schema(*args, **kwargs))
            schema.setdefault("$defs", {}).update(part.pop("$defs", {}))
            schema[PART_SCHEMA_KEY] = part
        return schema

    def __init_subclass__(cls, sealed_part: type[SealedPart] | None = None, **kw: Any):
        super().__init_subclass__(**kw)
        if sealed_part is not None:
            cls.sealed_part = sealed_part

    def __init__(self, /, **data: Any) -> None:
        part_fields = type(self).sealed_part.model_fields
        secret = {name: data.pop(name) for name in list(data) if name in part_fields}
        super().__init__(**data)
        # A part whose fields all have defaults is there even when none was given (then it seals its defaults).
        if secret or not any(field.is_required() for field in part_fields.values()):
            self._opened = type(self).sealed_part(**secret)

    @property
    def opened(self) -> Any:
        """The sealed part, readable (the event's `...Sealed` model)."""
        if self._opened is None:
            raise SealedPartUnavailable(f"{type(self).__name__}'s sealed part was not opened")
        return self._opened

    @property
    def is_open(self) -> bool:
        return self._opened is not None

    def with_opened(self, part: SealedPart) -> Self:
        """A copy whose sealed part is `part` (the runtime, after opening the box)."""
        if not isinstance(part, type(self).sealed_part):
            raise TypeError(f"{type(self).__name__} seals a {type(self).sealed_part.__name__}, not {type(part).__name__}")
        copy = self.model_copy()
        copy._opened = part
        return copy

    def with_box(self, box: SealedBox | None) -> Self:
        """A copy carrying `box` in `sealed` (the runtime, after sealing `opened`; the opened part stays)."""
        return self.model_copy(update={SEALED_FIELD: box})


def readable(event: Event) -> dict[str, Any]:
    """An event's fields as JSON values, its opened sealed part's among them and the box left out:
    what an API shows a caller who may see it, what notify's rules and templates read."""
    fields = event.model_dump(mode="json", exclude={SEALED_FIELD})
    if isinstance(event, SealedEvent) and event.is_open:
        fields.update(event.opened.model_dump(mode="json"))
    return fields
