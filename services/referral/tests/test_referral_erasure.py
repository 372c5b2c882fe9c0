"""Erasure: the citizen's personal data leaves every table of the referral database."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from referral_cards import REFERRERS, make_card

TRACES = ["Frida", "Hansen", "75 22 11 00", "752211", "frida@example.dk", "Storegade", "mistet sin mand", "Karen", "20304050", "Tegn på ensomhed"]


async def _tables_containing(runtime, needle: str) -> list[str]:  # noqa: ANN001
    """Every table.column whose text (any column cast to text) contains the needle."""
    hits: list[str] = []
    async with runtime.db.engine.connect() as conn:
        reflected = sa.MetaData()
        await conn.run_sync(reflected.reflect)
        for table in reflected.sorted_tables:
            for column in table.columns:
                found = await conn.scalar(
                    sa.select(sa.func.count()).select_from(table).where(sa.cast(column, sa.Text).ilike(f"%{needle}%"))
                )
                if found:
                    hits.append(f"{table.name}.{column.name}")
    return hits


async def test_an_erased_citizen_is_in_no_table_and_every_service_is_told(referral_service):
    client, runtime = referral_service.client, referral_service.runtime
    first = (await client.post("/referrals", json=make_card())).json()
    await client.post("/referrals", json=make_card(referrer=REFERRERS["relative"], citizen__name="Hansen Frida"))
    await client.post(f"/referrals/{first['referral_id']}/triage", json={"decision": "bridge", "triaged_by": "guide-1", "note": "Tegn på ensomhed"})
    await client.put(f"/citizens/{first['citizen_id']}/consent", json={"organisations": ["varde-kommune"], "given_by": "citizen"})
    other = (await client.post("/referrals", json=make_card(
        citizen__name="Lillemor Jensen", citizen__phone="+4597412233", citizen__email="lillemor@example.dk",
        citizen__address="Vestergade 3", reason="Lillemor sidder alene efter sin mands død.",
    ))).json()
    assert await _tables_containing(runtime, "Frida"), "the search must see the data before erasure"

    erased = await client.delete(f"/citizens/{first['citizen_id']}")
    assert erased.status_code == 200, erased.text

    for trace in TRACES:
        assert await _tables_containing(runtime, trace) == [], trace
    assert await _tables_containing(runtime, "Lillemor") != [], "other citizens are untouched"

    view = (await client.get(f"/referrals/{first['referral_id']}")).json()
    assert view["citizen"]["erased"] is True and view["citizen"]["name"] is None and view["reason"] is None
    assert (await client.get(f"/citizens/{first['citizen_id']}/contact")).status_code == 410
    assert (await client.delete(f"/citizens/{first['citizen_id']}")).status_code == 410
    assert (await client.delete(f"/citizens/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"/citizens/{other['citizen_id']}/contact")).json()["name"] == "Lillemor Jensen"

    # Referred again after erasure, the citizen starts afresh under a new id.
    again = (await client.post("/referrals", json=make_card())).json()
    assert again["citizen_id"] != first["citizen_id"] and again["repeat_referral"] is False
    refused = await client.post("/referrals", json=make_card(citizen_id=first["citizen_id"]))
    assert refused.status_code == 422

    events = await referral_service.published()
    assert [e.payload["citizen_id"] for e in events if e.type == "CitizenErased"] == [first["citizen_id"]]
