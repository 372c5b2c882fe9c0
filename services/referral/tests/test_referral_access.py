"""Authentication per organisation: each organisation and role, allowed and refused."""

from __future__ import annotations

import sqlalchemy as sa

from referral.adapters.tables import contact_access_log
from referral_cards import make_card

KEYS = {
    "varde_staff": "varde-kommune:staff:k-varde-staff",
    "varde_home_care": "varde-kommune:referrer:k-varde-home-care",
    "gp": "gp-vestjylland:referrer:k-gp",
    "red_cross_staff": "red-cross:staff:k-red-cross-staff",
    "red_cross_notify": "red-cross:service:k-red-cross-notify",
    "abf_notify": "abf:service:k-abf-notify",
}


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[who].split(':', 2)[2]}"}


async def test_the_access_matrix(start_referral):
    async with start_referral(api_keys=",".join(KEYS.values())) as service:
        client = service.client

        async def call(who: str | None, method: str, url: str, json: dict | None = None) -> int:
            headers = bearer(who) if who else {}
            return (await client.request(method, url, json=json, headers=headers)).status_code

        # Submitting: a referrer refers for its own organisation; owning staff may enter any card.
        gp_card = make_card(referrer={"source": "gp", "org": "gp-vestjylland"})
        assert await call(None, "POST", "/referrals", gp_card) == 401
        assert (await client.post("/referrals", json=gp_card, headers={"Authorization": "Bearer nonsense"})).status_code == 401
        assert await call("gp", "POST", "/referrals", make_card(referrer={"source": "gp", "org": "varde-kommune"})) == 403
        assert await call("red_cross_notify", "POST", "/referrals", gp_card) == 403
        response = await client.post("/referrals", json=gp_card, headers=bearer("gp"))
        assert response.status_code == 201
        gp_referral, citizen = response.json()["referral_id"], response.json()["citizen_id"]
        assert await call("varde_staff", "POST", "/referrals", make_card(citizen__name="Lillemor Jensen")) == 201
        assert await call("varde_home_care", "POST", "/referrals", make_card(citizen__name="Holger Bak")) == 201

        triage = {"decision": "bridge", "triaged_by": "guide-1"}
        consent = {"organisations": ["varde-kommune", "red-cross"], "given_by": "citizen"}
        matrix = {
            # who: (read the gp's referral, its status, triage it, change consent, read contact)
            None: (401, 401, 401, 401, 401),
            "gp": (200, 200, 403, 403, 403),
            "varde_home_care": (403, 403, 403, 403, 403),
            "red_cross_staff": (403, 403, 403, 403, 200),
            "red_cross_notify": (403, 403, 403, 403, 200),
            "abf_notify": (403, 403, 403, 403, 403),
            "varde_staff": (200, 200, 200, 200, 200),
        }
        for who, expected in matrix.items():
            got = (
                await call(who, "GET", f"/referrals/{gp_referral}"),
                await call(who, "GET", f"/referrals/{gp_referral}/status"),
                await call(who, "POST", f"/referrals/{gp_referral}/triage", triage if who != "varde_staff" else None),
                await call(who, "PUT", f"/citizens/{citizen}/consent", consent if who != "varde_staff" else None),
                await call(who, "GET", f"/citizens/{citizen}/contact"),
            )
            assert got[:2] + got[4:] == expected[:2] + expected[4:], who
            if who != "varde_staff":
                assert got[2:4] == expected[2:4], who
        # The owning staff's writes, done last so that they do not change the rows above.
        assert await call("varde_staff", "POST", f"/referrals/{gp_referral}/triage", triage) == 200
        assert await call("varde_staff", "PUT", f"/citizens/{citizen}/consent", consent | {"organisations": ["abf"]}) == 200
        assert await call("abf_notify", "GET", f"/citizens/{citizen}/contact") == 200
        assert await call("red_cross_notify", "GET", f"/citizens/{citizen}/contact") == 403

        # Lists: the owning staff see every referral, a referrer its own organisation's
        # (home care is part of the municipality: it sees the card the municipality's staff entered).
        listed = {who: len((await client.get("/referrals", headers=bearer(who))).json()) for who in ("varde_staff", "gp", "varde_home_care", "red_cross_staff")}
        assert listed == {"varde_staff": 3, "gp": 1, "varde_home_care": 2, "red_cross_staff": 0}
        assert await call("red_cross_notify", "GET", "/referrals") == 403

        # Erasure: the owning staff only.
        for who in ("gp", "red_cross_staff", "abf_notify", None):
            assert await call(who, "DELETE", f"/citizens/{citizen}") in (401, 403)
        assert await call("varde_staff", "DELETE", f"/citizens/{citizen}") == 200

        # Every contact request was logged with the organisation, granted or not; never the secret.
        async with service.runtime.db.sessions() as s:
            log = (await s.execute(sa.select(contact_access_log.c.org, contact_access_log.c.granted, contact_access_log.c.key_name))).all()
        assert sorted((org, granted) for org, granted, _ in log) == sorted([
            ("gp-vestjylland", False), ("varde-kommune", False), ("red-cross", True), ("red-cross", True),
            ("abf", False), ("varde-kommune", True), ("abf", True), ("red-cross", False),
        ])
        assert all("k-" not in key for _, _, key in log)
