"""AES-256-GCM sealing of an event's sensitive part (DESIGN.md section 2).

`seal` encrypts a plaintext model into a `SealedBox` under a citizen's 256-bit
data key with a fresh random 96-bit nonce; `open_box` decrypts and validates
it, raising `SealBroken` when the box was altered, belongs to another event or
citizen (the associated data differs), or the key is not the one it was
sealed under. `seal_event` / `open_event` do the same for a whole event,
binding the box to the event's type and subject.
"""

from __future__ import annotations

import base64
import os
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ValidationError

from brobygger_contracts.sealed import SealedBox, SealedEvent, associated_data

KEY_BYTES = 32
NONCE_BYTES = 12

P = TypeVar("P", bound=BaseModel)
E = TypeVar("E", bound=SealedEvent)


class SealBroken(ValueError):
    """A box that does not open with the key it should open with: tampered, moved or garbled."""


def new_data_key() -> bytes:
    """A random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def seal(part: BaseModel, key: bytes, aad: bytes) -> SealedBox:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, part.model_dump_json().encode(), aad)
    return SealedBox(nonce=base64.b64encode(nonce).decode(), ciphertext=base64.b64encode(ciphertext).decode())


def open_box(box: SealedBox, key: bytes, aad: bytes, model: type[P]) -> P:
    try:
        nonce = base64.b64decode(box.nonce, validate=True)
        ciphertext = base64.b64decode(box.ciphertext, validate=True)
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("the sealed part does not open with the citizen's key: altered, moved to another "
                         "event or citizen, or sealed under another key") from exc
    try:
        return model.model_validate_json(plaintext)
    except ValidationError as exc:
        # Authentic but not the plaintext model: a publisher's bug, never the reader's to guess.
        raise SealBroken(f"the sealed part opened but is not a valid {model.__name__} "
                         f"({exc.error_count()} errors)") from exc


def event_aad(event: SealedEvent) -> bytes:
    return associated_data(event.event_type(), event.subject())


def seal_event(event: E, key: bytes) -> E:
    """The event with its opened part sealed into `sealed` under `key`."""
    return event.with_box(seal(event.opened, key, event_aad(event)))


def open_event(event: E, key: bytes) -> E:
    """The event with its `sealed` box opened (`SealBroken` when it does not open)."""
    if event.sealed is None:
        raise SealBroken(f"{type(event).__name__} carries no sealed part")
    return event.with_opened(open_box(event.sealed, key, event_aad(event), type(event).sealed_part))
