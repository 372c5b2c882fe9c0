"""Citizens' data keys at their owner (DESIGN.md section 2), on the real broker and database:
made with the citizen's record, stored only wrapped, handed to services of consented
organisations, withheld after consent is withdrawn, and referral refuses to start without
its key-encryption key."""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from referral.adapters.key_store import citizen_keys
from referral.bootstrap import Settings
from referral_cards import make_card


@pytest.mark.parametrize("kek", ["", "not base64!", base64.b64encode(b"16 bytes only...").decode()])
def test_referral_refuses_to_start_without_a_usable_key_encryption_key(kek: str):
    with pytest.raises(ValidationError, match="KEY_ENCRYPTION_KEY"):
        Settings(key_encryption_key=kek, trusted_issuers='{"https://id.example/realms/x": "varde-kommune"}')


async def test_keys_are_stored_wrapped_and_handed_only_while_consent_names_the_caller(referral_service):
    accepted = (await referral_service.client.post("/referrals", json=make_card())).json()
    citizen = accepted["citizen_id"]
    async with referral_service.runtime.db.sessions() as s:
        [(wrapped,)] = (await s.execute(sa.select(citizen_keys.c.wrapped_key).where(
            citizen_keys.c.citizen_id == citizen))).all()
    tokens = referral_service.tokens

    async def ask(org: str, ids: list[str] | None = None):  # noqa: ANN202
        return await referral_service.client.post("/citizen-keys", json={"citizen_ids": ids or [citizen]},
                                                  auth=tokens.service_auth("matching", org))

    handed = (await ask("red-cross")).json()
    key = base64.b64decode(handed["keys"][citizen])
    assert len(key) == 32 and len(wrapped) == 40 and key not in bytes(wrapped)  # only the wrapped form is stored
    assert (await ask("varde-kommune")).json()["keys"] == handed["keys"]  # the owner, always
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await ask("abf", [citizen, unknown])).json() == {"keys": {}, "withheld": [citizen, unknown]}
    assert (await ask("red-cross", [citizen] * 501)).status_code == 422  # at most 500 a call

    # The key opens what referral published about the citizen, and nothing else is in clear.
    [event] = [e for e in await referral_service.published() if e.type == "ReferralReceived"]
    assert "6800" not in event.raw_value.decode() and json.loads(event.raw_value)["sealed"]["alg"] == "A256GCM"

    withdrawn = await referral_service.client.put(f"/citizens/{citizen}/consent",
                                                  json={"organisations": ["varde-kommune"], "given_by": "citizen"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await ask("red-cross")).json() == {"keys": {}, "withheld": [citizen]}
    log = (await referral_service.client.get(f"/citizens/{citizen}/access-log")).json()["entries"]
    handouts = [(e["organisation"], e["allowed"], e["purpose"]) for e in log if e["fields"] == ["data key"]]
    assert ("red-cross", False, "open the citizen's sealed fields") in handouts
    assert ("red-cross", True, "open the citizen's sealed fields") in handouts
    assert ("abf", False, "open the citizen's sealed fields") in handouts
