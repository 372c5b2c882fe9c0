"""One partnership catalogue (issue 15 case 1), on the real broker and PostgreSQL: an instance proposes its
partners' activities within the citizen's consent, an activity belongs to the organisation whose topic it came
from, a new group is proposed by the citizens' group home only, and a formed group grows under a new version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts import dead_letter_topic, topic_for
from brobygger_contracts.events.journey import GroupFormed, ParticipationEnded
from brobygger_contracts.events.matching import ActivityPublished, GroupProposed, MatchAccepted, MatchProposed
from matching.testing import (
    ORG, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral,
)

MUNICIPALITY = "varde-kommune"


def walking_group(activity_id: uuid.UUID, org: str = MUNICIPALITY, **changes) -> ActivityPublished:  # noqa: ANN003
    values = dict(activity_id=activity_id, org=org, name="Gåfællesskab Varde", interests=["walking"], postal_code="6800",
                  schedule=[{"day": "tue", "part": "morning"}], seats=8, step_free=True, published_at=datetime.now(UTC))
    values.update(changes)
    return ActivityPublished(**values)


async def test_red_cross_proposes_the_municipalitys_activity_within_consent_only(kafka_bootstrap, database_url):
    # Red Cross's instance knows no activity of its own (before issue 15 it proposed nothing at all here). Red Cross
    # comes first in this partnership's MATCHING_ORGS, so it is the home of citizens whose consent names both.
    async with matching_instance(kafka_bootstrap, database_url, matching_orgs=f"{ORG},{MUNICIPALITY}") as (runtime, api):
        partnership = runtime.settings.partnership_id
        activity_id = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, walking_group(activity_id), org=MUNICIPALITY)

        async def catalogued() -> bool:
            return any(a["activity_id"] == str(activity_id) for a in (await api.get("/activities")).json())
        await eventually(catalogued)
        listed = next(a for a in (await api.get("/activities")).json() if a["activity_id"] == str(activity_id))
        assert listed["org"] == MUNICIPALITY and listed["catalogued_from"] == MUNICIPALITY

        both, red_cross_only = uuid.uuid4(), uuid.uuid4()
        for citizen, consent in ((both, [MUNICIPALITY, ORG]), (red_cross_only, [ORG])):
            await publish(kafka_bootstrap, partnership, referral(citizen, consent),
                          clarification(citizen, wishes=["activity"], interests=["walking"]))

        async def proposed() -> bool:
            return len(await proposals_of(api, both)) == 1
        await eventually(proposed)
        [proposal] = await proposals_of(api, both)
        assert proposal["candidate_id"] == str(activity_id) and proposal["kind"] == "activity"
        # The citizen whose consent does not name the municipality is not proposed its activity.
        async def clarified() -> bool:
            return (await api.get(f"/citizens/{red_cross_only}/candidates", params={"kind": "activity"})).status_code == 200
        await eventually(clarified)
        judged = (await api.get(f"/citizens/{red_cross_only}/candidates", params={"kind": "activity"})).json()
        [entry] = judged["candidates"]
        assert not entry["eligible"] and "not_consented" in entry["excluded_because"]
        assert await proposals_of(api, red_cross_only) == []

        # Had the municipality's instance proposed the same activity too (say, configured before MATCHING_ORGS
        # named Red Cross first) and the citizen accepted it there: this instance's proposal of it is withdrawn,
        # so the seat is not held twice.
        await publish(kafka_bootstrap, partnership, MatchAccepted(
            proposal_id=uuid.uuid4(), citizen_id=both, kind="activity", candidate_id=activity_id,
            accepted_at=datetime.now(UTC)), org=MUNICIPALITY)

        async def withdrawn() -> bool:
            return [p["status"] for p in await proposals_of(api, both)] == ["withdrawn"]
        await eventually(withdrawn)
        assert (await proposals_of(api, both))[0]["decline_reason"] == "chose_another"


async def test_only_the_citizens_home_proposes_activities(kafka_bootstrap, database_url):
    # The municipality is first in MATCHING_ORGS: a citizen whose consent names both is the municipality's to propose
    # activities to. Red Cross's instance judges the walk (its guides may look) but proposes nothing, so the citizen
    # is not shown the same walk by two instances (the chaos run counted MatchProposed twice per citizen before).
    async with matching_instance(kafka_bootstrap, database_url, matching_orgs=f"{MUNICIPALITY},{ORG}") as (runtime, api):
        partnership = runtime.settings.partnership_id
        activity_id, citizen = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, walking_group(activity_id), org=MUNICIPALITY)

        async def catalogued() -> bool:
            return any(a["activity_id"] == str(activity_id) for a in (await api.get("/activities")).json())
        await eventually(catalogued)
        await publish(kafka_bootstrap, partnership, referral(citizen, [MUNICIPALITY, ORG]),
                      clarification(citizen, wishes=["activity"], interests=["walking"]))

        async def clarified() -> bool:
            return (await api.get(f"/citizens/{citizen}/candidates", params={"kind": "activity"})).status_code == 200
        await eventually(clarified)
        [entry] = (await api.get(f"/citizens/{citizen}/candidates", params={"kind": "activity"})).json()["candidates"]
        assert entry["eligible"] and entry["candidate_id"] == str(activity_id)
        assert await proposals_of(api, citizen) == []


async def test_an_activity_belongs_to_the_organisation_whose_topic_it_came_from(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        activity_id = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, walking_group(activity_id), org=MUNICIPALITY)

        async def catalogued() -> bool:
            return any(a["activity_id"] == str(activity_id) for a in (await api.get("/activities")).json())
        await eventually(catalogued)  # topics are not ordered among themselves: the first publisher of an id keeps it
        # ABF's matching topic claims the municipality's activity: it is ABF speaking, refused (dead-lettered);
        # and an activity on ABF's topic naming another owner is catalogued as ABF's.
        await publish(kafka_bootstrap, partnership, walking_group(activity_id, name="Overtaget", seats=0), org="abf")
        abf_own = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, walking_group(abf_own, org=MUNICIPALITY, name="Studiekreds"), org="abf")

        async def both_seen() -> bool:
            return {str(activity_id), str(abf_own)} <= {a["activity_id"] for a in (await api.get("/activities")).json()}
        await eventually(both_seen)
        rows = {a["activity_id"]: a for a in (await api.get("/activities")).json()}
        assert rows[str(activity_id)]["name"] == "Gåfællesskab Varde" and rows[str(activity_id)]["seats"] == 8
        assert rows[str(abf_own)]["org"] == "abf"
        abf_topic = dead_letter_topic(topic_for(ActivityPublished, partnership, "abf"))
        [refused] = await read_events(kafka_bootstrap, partnership, want=1, topic=abf_topic)
        assert refused.activity_id == activity_id and refused.name == "Overtaget"


async def test_new_groups_are_proposed_by_the_citizens_group_home_only(kafka_bootstrap, database_url):
    # Red Cross runs matching next to the municipality; walkers whose consent names both belong to the
    # municipality's instance (first in MATCHING_ORGS): Red Cross proposes no group for them.
    async with matching_instance(kafka_bootstrap, database_url, matching_orgs=f"{MUNICIPALITY},{ORG}") as (runtime, api):
        partnership = runtime.settings.partnership_id
        shared = [uuid.uuid4() for _ in range(4)]
        own = [uuid.uuid4() for _ in range(2)]
        for citizen in shared:
            await publish(kafka_bootstrap, partnership, referral(citizen, [MUNICIPALITY, ORG]),
                          clarification(citizen, wishes=["group"], interests=["walking"]))
        for citizen in own:
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]),
                          clarification(citizen, wishes=["group"], interests=["walking"]))
        groups = of_type(await read_events(kafka_bootstrap, partnership, want=1, settle=3.0), GroupProposed)
        assert len(groups) == 1 and set(groups[0].citizen_ids) == set(own)


async def test_a_formed_group_takes_newcomers_under_a_new_version_and_frees_places(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        walkers = [uuid.uuid4() for _ in range(2)]
        for citizen in walkers:
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]),
                          clarification(citizen, wishes=["group"], interests=["walking"]))
        [first] = of_type(await read_events(kafka_bootstrap, partnership, want=1), GroupProposed)
        assert first.proposal_version == 1 and first.group_id is None
        group_id = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, GroupFormed(
            group_id=group_id, group_proposal_id=first.group_proposal_id, interest="walking", postal_code="6800",
            facilitator_id="tovholder-karen", member_citizen_ids=walkers, formed_at=datetime.now(UTC)))
        newcomer = uuid.uuid4()

        async def formed() -> bool:
            return bool(await _group_row(runtime, first.group_proposal_id))
        await eventually(formed)
        await publish(kafka_bootstrap, partnership, referral(newcomer, [ORG]),
                      clarification(newcomer, wishes=["group"], interests=["walking"]))
        grown = of_type(await read_events(kafka_bootstrap, partnership, want=2), GroupProposed)[-1]
        assert grown.group_proposal_id == first.group_proposal_id and grown.proposal_version == 2
        assert grown.group_id == group_id and grown.citizen_ids == [*first.citizen_ids, newcomer]

        # A member stops taking part: their place is free, the group has room for two more again.
        await publish(kafka_bootstrap, partnership, ParticipationEnded(
            citizen_id=walkers[0], group_id=group_id, group_proposal_id=first.group_proposal_id,
            reason="stopped_attending", ended_at=datetime.now(UTC)))

        async def freed() -> bool:
            return str(walkers[0]) not in await _members(runtime, first.group_proposal_id)
        await eventually(freed)
        assert set(await _members(runtime, first.group_proposal_id)) == {str(walkers[1]), str(newcomer)}
        assert of_type(await read_events(kafka_bootstrap, partnership, want=2), MatchProposed) == []


async def _group_row(runtime, group_proposal_id):  # noqa: ANN001, ANN202
    import sqlalchemy as sa

    from matching.adapters.tables import group_proposals
    async with runtime.db.sessions() as session:
        return (await session.execute(sa.select(group_proposals.c.group_id).where(
            group_proposals.c.group_proposal_id == str(group_proposal_id), group_proposals.c.group_id.is_not(None)))).first()


async def _members(runtime, group_proposal_id) -> list[str]:  # noqa: ANN001
    import sqlalchemy as sa

    from matching.adapters.tables import group_members
    async with runtime.db.sessions() as session:
        return list((await session.scalars(sa.select(group_members.c.citizen_id).where(
            group_members.c.group_proposal_id == str(group_proposal_id)))).all())
