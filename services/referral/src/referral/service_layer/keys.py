"""Handing out citizens' data keys (DESIGN.md section 2): to a service of an
organisation named in the citizen's current consent (the owning organisation
always), never to anyone else, and every hand-out and refusal logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.adapters import key_store

if TYPE_CHECKING:  # referrals creates keys through this module
    from referral.service_layer.referrals import Partnership

KEY_FIELDS = ("data key",)
KEY_PURPOSE = "open the citizen's sealed fields"


@dataclass(frozen=True)
class HandOut:
    keys: dict[str, bytes]
    withheld: list[str]
    """Unknown, erased and not consented alike: the answer does not say which."""


def own_keys(uow: UnitOfWork) -> key_store.OwnKeys:
    """Referral's key store, installed as its runtime's key source at start-up."""
    source = uow.runtime.citizen_keys.source
    assert isinstance(source, key_store.OwnKeys), "referral's runtime must use its own key store"
    return source


async def create_data_key(uow: UnitOfWork, citizen_id: str, now: datetime) -> None:
    """A new citizen's data key, in the transaction that creates their record."""
    await own_keys(uow).create(uow.session, citizen_id, now)


async def delete_data_key(uow: UnitOfWork, citizen_id: str) -> None:
    """Erasure: the key goes, and with it every sealed copy of the citizen's fields."""
    await key_store.delete_key(uow.session, citizen_id)


async def hand_out(uow: UnitOfWork, citizen_ids: list[str], caller: Caller, partnership: Partnership) -> HandOut:
    wanted = list(dict.fromkeys(citizen_ids))
    consents = await key_store.consents_of(uow.session, wanted)
    allowed = [c for c in wanted if c in consents and (
        caller.organisation == partnership.owning_org or caller.organisation in consents[c])]
    keys = await key_store.keys_of(uow.session, own_keys(uow).kek, allowed)
    withheld = [c for c in wanted if c not in keys]
    for citizen_id in wanted:
        await access_log.record(uow.session, uow.runtime.tables.access_log, caller, citizen_id,
                                fields=KEY_FIELDS, purpose=KEY_PURPOSE, allowed=citizen_id in keys)
    return HandOut(keys, withheld)
