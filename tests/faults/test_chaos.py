"""The whole system under chaos: N citizens through whole journeys while every
service is SIGKILLed at random moments and restarted, plus one database cut.

Five service processes (referral, journey, notify, matching for the
municipality and for Red Cross), each on its own PostgreSQL database, on the
session's broker. Each citizen: referral (with an Idempotency-Key), guide
assigned, clarification, an activity proposed, accepted, first visit booked and
recorded; notify e-mails the guide about the proposal, the acceptance and the
first visit. Meanwhile at least 10 SIGKILLs (every service at least once) and
one cut of every service's database (connections terminated, new ones refused
for a few seconds). `bench/chaos.py` runs the same with N = 1,000.

At the end: journeys opened = referrals accepted, every expected event once
(distinct ce_id) and in every consumer's inbox, e-mails once per (event,
recipient) or reported uncertain by notify, the journey's transitions in a
valid order, no dead letters, and the time for every lag to reach 0 after
the last fault.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import chaos_kit as kit  # noqa: E402

CITIZENS = 30


@pytest.mark.timeout(600)
async def test_whole_journeys_survive_kills_and_a_database_cut(kafka_bootstrap, database_url_factory, postgres_admin_dsn,
                                                               tmp_path):  # noqa: ANN001
    if postgres_admin_dsn is None:
        pytest.skip("the database cut needs PostgreSQL")
    instances = kit.chaos_instances()
    databases = {f"{i.package}@{i.org_id}": await database_url_factory(i.package) for i in instances}
    stack = kit.make_stack(tmp_path / "stack", f"chaos{uuid.uuid4().hex[:8]}", kafka_bootstrap, databases, instances,
                           extra_env={"OUTBOX_POLL_SECONDS": "0.2", "LEASE_SECONDS": "5"})
    cfg = kit.ChaosConfig(citizens=CITIZENS, arrival_seconds=40, kill_gap=(2.5, 5.0), min_kills=10, max_down=3,
                          cut_seconds=6, flow_timeout=150, settle_timeout=150)
    await asyncio.to_thread(stack.start)
    try:
        report = await kit.run_chaos(stack, databases, postgres_admin_dsn, cfg, say=print)
    finally:
        await asyncio.to_thread(stack.stop)
    summary = f"\n{report.table()}\n{report.details()}\nlogs: {stack.workdir / 'logs'}"
    print(summary)

    assert report.kills >= 10, summary
    assert {"referral", "journey", "notify", "matching"} <= {name.split("@")[0] for name in report.kills_per_service}, summary
    assert report.cut_databases == len(databases) and report.cut_seconds >= cfg.cut_seconds, summary
    assert not report.not_recovered, summary
    assert report.dead_letters == [], f"{len(report.dead_letters)} dead letters" + summary
    assert report.lost == 0, f"{report.lost} lost" + summary
    assert report.duplicates == 0, f"{report.duplicates} duplicated" + summary
    assert report.inversions == [], f"{len(report.inversions)} order inversions" + summary
    assert report.completed == report.referrals_accepted == CITIZENS, summary
    assert report.journeys_opened == report.journeys_in_api == report.referrals_accepted, summary
    assert report.emails_ok + report.emails_uncertain == report.emails_expected >= 3 * CITIZENS, summary
    assert report.emails_unexpected == 0 and report.outbox_parked == 0, summary
    assert report.lag_to_zero_seconds is not None, f"the system never came to rest: {report.rest_detail}" + summary
