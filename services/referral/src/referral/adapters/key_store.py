"""Citizens' data keys (DESIGN.md section 2), kept only here, the data owner.

Each citizen gets a random 256-bit AES key when their record is created. It is
stored wrapped (AES key wrap, RFC 3394) by the key-encryption key from the
environment (`KEY_ENCRYPTION_KEY`, base64 of 32 bytes), so a copy of the
database alone (a backup, a dump) opens no sealed field. Erasure deletes the
row: every sealed copy of the citizen's fields, on every topic, dead-letter
topic, outbox and backup, becomes unreadable at once (crypto-shredding).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime.db import UtcDateTime
from brobygger_runtime.sealing import KEY_BYTES, new_data_key
from referral.adapters.tables import citizens, metadata

citizen_keys = sa.Table(
    "citizen_keys",
    metadata,
    sa.Column("citizen_id", sa.String(36), primary_key=True, comment="the citizen the key seals for"),
    sa.Column("wrapped_key", sa.LargeBinary(48), nullable=False,
              comment="the citizen's data key wrapped by KEY_ENCRYPTION_KEY (RFC 3394); deleted on erasure"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)


class KeyEncryptionKeyError(ValueError):
    """KEY_ENCRYPTION_KEY is missing or not base64 of 32 bytes."""


class KeyEncryptionKey:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_setting(cls, text: str) -> "KeyEncryptionKey":
        """From KEY_ENCRYPTION_KEY; refuses anything but base64 of 32 bytes (fail closed)."""
        if not text:
            raise KeyEncryptionKeyError(
                "KEY_ENCRYPTION_KEY is not set: referral keeps the citizens' data keys wrapped by it "
                "(base64 of 32 random bytes, e.g. `python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'`)"
            )
        try:  # standard or URL-safe alphabet, padded or not (secret stores write either)
            padded = text.strip() + "=" * (-len(text.strip()) % 4)
            key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyEncryptionKeyError("KEY_ENCRYPTION_KEY is not base64") from exc
        if len(key) != KEY_BYTES:
            raise KeyEncryptionKeyError(f"KEY_ENCRYPTION_KEY must be 32 bytes, not {len(key)}")
        return cls(key)

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._key, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._key, wrapped)
        except InvalidUnwrap as exc:
            raise KeyEncryptionKeyError("a stored data key does not unwrap: KEY_ENCRYPTION_KEY is not the one "
                                        "the keys were wrapped with") from exc


async def create_key(session: AsyncSession, kek: KeyEncryptionKey, citizen_id: str, now: datetime) -> None:
    await session.execute(citizen_keys.insert().values(
        citizen_id=citizen_id, wrapped_key=kek.wrap(new_data_key()), created_at=now,
    ))


async def keys_of(session: AsyncSession, kek: KeyEncryptionKey, citizen_ids: list[str]) -> dict[str, bytes]:
    """The data keys that exist among `citizen_ids` (erased citizens have none)."""
    if not citizen_ids:
        return {}
    rows = await session.execute(
        sa.select(citizen_keys.c.citizen_id, citizen_keys.c.wrapped_key).where(citizen_keys.c.citizen_id.in_(citizen_ids))
    )
    return {row.citizen_id: kek.unwrap(row.wrapped_key) for row in rows}


async def delete_key(session: AsyncSession, citizen_id: str) -> None:
    """Crypto-shredding: without this row no sealed field of the citizen opens again."""
    await session.execute(citizen_keys.delete().where(citizen_keys.c.citizen_id == citizen_id))


async def consents_of(session: AsyncSession, citizen_ids: list[str]) -> dict[str, list[str]]:
    """The current consent of each citizen among `citizen_ids` that is known and not erased."""
    if not citizen_ids:
        return {}
    rows = await session.execute(
        sa.select(citizens.c.citizen_id, citizens.c.consented_orgs)
        .where(citizens.c.citizen_id.in_(citizen_ids), citizens.c.erased_at.is_(None))
    )
    return {row.citizen_id: list(row.consented_orgs or []) for row in rows}


class OwnKeys:
    """Referral's own key source for its runtime: its key store, in the caller's transaction (no HTTP,
    no cache: a key created or deleted in this transaction counts at once)."""

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self.kek = kek

    async def create(self, session: AsyncSession, citizen_id: str, now: datetime) -> None:
        await create_key(session, self.kek, citizen_id, now)

    async def fetch(self, citizen_ids: list[str], session: AsyncSession | None) -> dict[str, bytes]:
        if session is None:
            raise ValueError("referral reads its keys inside a transaction")
        return await keys_of(session, self.kek, citizen_ids)
