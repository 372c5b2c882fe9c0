"""Bulk intake: bad rows reported row by row, good rows accepted and published."""

from __future__ import annotations

import json

from referral_cards import make_card

CSV = """referrer.source,referrer.org,citizen.name,citizen.birth_year,citizen.postal_code,citizen.address,citizen.phone,citizen.lives_alone,reason,urgency,consent.given_by,consent.given_at,consent.organisations
home_care,varde-kommune,Jens Madsen,1938,6800,Nørregade 4,+4575221234,ja,Sidder meget alene efter flytningen.,routine,citizen,2026-02-01T09:00:00Z,varde-kommune;red-cross
home_care,varde-kommune,Inger Lund,nineteen-forty,6800,,,nej,Ensom.,soon,citizen,2026-02-01T09:00:00Z,varde-kommune
nurse,varde-kommune,Poul Holm,1950,7500,Søndergade 2,,,"Savner fællesskab, ""før"" var han i kor.",urgent,citizen,2026-02-01T09:00:00Z,
home_care,varde-kommune,Else Berg,1945,6870,,+4575009988,true,Har ingen familie i nærheden.,routine,relative,2026-02-01T09:00:00Z,abf
"""


async def test_a_json_batch_accepts_good_rows_and_reports_bad_ones(referral_service):
    batch = [
        make_card(citizen__name="Anna Dahl"),
        make_card(consent=...),
        make_card(citizen__name="Bo Friis", citizen__birth_year="1950"),
        42,
        make_card(citizen__name="Carl Ravn", consent__organisations=["varde-kommune", "acme-corp"]),
        make_card(citizen__name="Dorte Vang", reason="x" * 5000),
        make_card(citizen__name="Anna Dahl"),
        {**make_card(), "\ud800": 1},  # a key that cannot even be written as UTF-8
    ]
    response = await referral_service.client.post(
        "/referrals/batch", content=json.dumps(batch).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [a["row"] for a in result["accepted"]] == [1, 7]
    assert result["accepted"][1]["repeat_referral"] is True  # the same person twice in one batch is merged
    rejected = {r["row"]: [tuple(e["loc"]) for e in r["errors"]] for r in result["rejected"]}
    assert rejected == {
        2: [("consent",)],
        3: [("citizen", "birth_year")],
        4: [()],
        5: [("consent", "organisations", 1)],
        6: [("reason",)],
        8: [()],  # pydantic refuses the whole card: a key is not valid Unicode
    }
    events = await referral_service.published()
    assert sorted(e.payload["referral_id"] for e in events) == sorted(a["referral_id"] for a in result["accepted"])


async def test_a_csv_batch_from_a_home_care_system(referral_service):
    response = await referral_service.client.post("/referrals/batch", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert [a["row"] for a in result["accepted"]] == [1, 4]
    assert {r["row"]: r["errors"][0]["loc"] for r in result["rejected"]} == {2: ["citizen", "birth_year"], 3: ["consent", "organisations"]}

    jens = (await referral_service.client.get(f"/referrals/{result['accepted'][0]['referral_id']}")).json()
    assert jens["citizen"]["name"] == "Jens Madsen" and jens["citizen"]["lives_alone"] is True
    assert jens["citizen"]["consented_orgs"] == ["varde-kommune", "red-cross"]
    assert len(await referral_service.published()) == 2


async def test_a_resent_batch_creates_nothing_new(referral_service):
    client = referral_service.client
    csv = CSV.replace("referrer.source,", "external_id,referrer.source,", 1)
    csv = "\n".join(line if n == 0 else f"hc-{n},{line}" for n, line in enumerate(csv.strip().splitlines())) + "\n"
    first = (await client.post("/referrals/batch", content=csv.encode(), headers={"content-type": "text/csv"})).json()
    again = (await client.post("/referrals/batch", content=csv.encode(), headers={"content-type": "text/csv"})).json()
    assert [a["row"] for a in first["accepted"]] == [1, 4] and not any(a["already_received"] for a in first["accepted"])
    assert [(a["referral_id"], a["already_received"]) for a in again["accepted"]] == [(a["referral_id"], True) for a in first["accepted"]]
    bad_id = (await client.post("/referrals/batch", json=[{**make_card(), "external_id": "x\ty"}])).json()
    assert bad_id["rejected"] == [{"row": 1, "errors": [{"loc": ["external_id"], "msg": "must be 1 to 90 printable ASCII characters"}]}]
    assert len(await referral_service.published()) == 2


async def test_an_unreadable_batch_is_refused_whole(referral_service):
    client = referral_service.client
    bad_json = await client.post("/referrals/batch", content=b"[{", headers={"content-type": "application/json"})
    not_a_list = await client.post("/referrals/batch", json={"card": make_card()})
    bad_columns = await client.post("/referrals/batch", content=b"name,cpr\nFrida,0101421234\n", headers={"content-type": "text/csv"})
    too_many = await client.post("/referrals/batch", json=[{}] * 1001)
    for response in (bad_json, not_a_list, bad_columns, too_many):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body"]
    assert await referral_service.published() == []
