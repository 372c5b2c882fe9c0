"""The guide's task list (issue 15): a guide sees their own caseload's tasks, this organisation's
coordinators all; anyone else is refused; a task is done and undone."""

from __future__ import annotations

from datetime import UTC, datetime

from journey_testkit import PARTNER, referral


async def _first_contact_tasks(svc) -> dict[str, str]:  # noqa: ANN001
    """anne and karin get one citizen each whose first contact is overdue; returns guide -> citizen id."""
    for guide in ("anne", "karin"):
        await svc.client.post("/guides", json={"guide_id": guide, "capacity": 1})
    owners = {}
    for _ in range(2):
        event = referral()
        await svc.send(event)
        owners[(await svc.client.get(f"/journeys/{event.citizen_id}")).json()["guide_id"]] = str(event.citizen_id)
    svc.clock.moment = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # three working days later
    await svc.runtime.scheduler.tick()
    return owners


async def test_guides_see_their_own_tasks_coordinators_all_others_are_refused(journey_service):
    svc = journey_service
    owners = await _first_contact_tasks(svc)
    anne, karin = svc.auth("guide", subject="anne"), svc.auth("guide", subject="karin")
    [annes] = (await svc.client.get("/tasks", auth=anne)).json()
    assert (annes["kind"], annes["citizen_id"], annes["done"]) == ("first_contact", owners["anne"], False)
    assert [t["citizen_id"] for t in (await svc.client.get("/tasks", auth=karin)).json()] == [owners["karin"]]
    assert len((await svc.client.get("/tasks")).json()) == 2  # the coordinator: the organisation's
    assert (await svc.client.get("/tasks", auth=svc.auth("coordinator", org=PARTNER))).status_code == 403
    assert (await svc.client.get("/tasks", auth=svc.auth("guide", org=PARTNER, subject="anne"))).status_code == 403
    assert (await svc.client.get("/tasks", auth=svc.auth("steering"))).status_code == 403
    assert (await svc.client.get("/tasks", params={"limit": 0})).status_code == 422

    # karin cannot tick anne's task; anne can, and can undo it
    assert (await svc.client.post(f"/tasks/{annes['task_id']}/done", json={"done": True}, auth=karin)).status_code == 404
    done = await svc.client.post(f"/tasks/{annes['task_id']}/done", json={"done": True}, auth=anne)
    assert done.status_code == 200 and done.json()["done"] and done.json()["done_by"] == "anne"
    assert (await svc.client.get("/tasks", params={"done": False}, auth=anne)).json() == []
    undone = await svc.client.post(f"/tasks/{annes['task_id']}/done", json={"done": False}, auth=anne)
    assert undone.json()["done"] is False and undone.json()["done_at"] is None
    assert (await svc.client.post("/tasks/not-a-uuid/done", json={"done": True})).status_code == 422


async def test_the_first_contact_does_the_first_contact_task(journey_service):
    svc = journey_service
    owners = await _first_contact_tasks(svc)
    anne = svc.auth("guide", subject="anne")
    assert (await svc.client.post(f"/journeys/{owners['anne']}/contacts", json={"kind": "call"}, auth=anne)).status_code == 201
    [task] = (await svc.client.get("/tasks", auth=anne)).json()
    assert task["done"] and task["done_by"] == "anne"
