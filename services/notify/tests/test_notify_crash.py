"""SIGKILL: notify runs as its own process (`python -m notify`) against the real
broker, PostgreSQL and an SMTP server; it is killed mid-stream twice and
restarted. Counting e-mails per delivery key: none arrives twice, none is lost
without a trace (each is sent, or reported uncertain for an operator)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from brobygger_stack.fixed_keys import FixedKeyServer
from brobygger_stack.processes import ServiceProcess
from brobygger_stack.testing import listen_ports, service_credentials
from notify_testkit import (
    ScriptedSmtp, contact_body, guide_assigned, rules_without_new_citizen_mail, match_proposed, notify_events, produce_many, refer, tokens, wait_until,
)

CITIZENS = 60


def notify_process(env: dict[str, str], port: int, log_path) -> ServiceProcess:  # noqa: ANN001
    return ServiceProcess("notify", "varde-kommune", port, env=env, log_path=log_path)


async def _log(url: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=url, timeout=5, auth=tokens().auth("coordinator")) as client:
        return (await client.get("/deliveries", params={"limit": 500})).json()


@pytest.mark.e2e
async def test_sigkill_mid_stream_never_sends_an_email_twice(kafka_bootstrap, database_url, tmp_path):
    partnership = f"t{uuid.uuid4().hex[:10]}"
    port = listen_ports()  # the restarted process listens on the same port
    with ScriptedSmtp(delay=0.03) as smtp, FixedKeyServer() as keys:
        env = {
            "CITIZEN_KEYS_URL": keys.url,  # referral's key endpoint, for the events this test writes itself
            **service_credentials("notify", "varde-kommune"),
            "PARTNERSHIP_ID": partnership, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": database_url,
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "MAIL_FROM": "brobygger@varde.example",
            "LEASE_SECONDS": "1.5", "DISPATCHER_POLL_SECONDS": "0.05", "OUTBOX_POLL_SECONDS": "0.05",
            "LOG_JSON": "false", "NOTIFY_RULES_FILE": rules_without_new_citizen_mail(),
        }
        proc = notify_process(env, port, tmp_path / "notify-1.log").start()
        try:
            await asyncio.to_thread(proc.wait_ready)
            async with httpx.AsyncClient(base_url=proc.url, auth=tokens().auth("coordinator")) as client:
                assert (await client.post("/contacts", json=contact_body("guide-k", "da"))).status_code == 201
            citizens = [uuid.uuid4() for _ in range(CITIZENS)]
            await refer(kafka_bootstrap, partnership, citizens)
            await produce_many(kafka_bootstrap, [guide_assigned(c, "guide-k") for c in citizens], partnership)
            await produce_many(kafka_bootstrap, [match_proposed(c) for c in citizens], partnership)

            for run, kill_after in enumerate((10, 30), start=2):
                await wait_until(lambda: len(smtp.accepted) >= kill_after, timeout=60, what=f"{kill_after} e-mails")
                proc.kill()  # SIGKILL, wherever it is
                proc = notify_process(env, port, tmp_path / f"notify-{run}.log").start()
                await asyncio.to_thread(proc.wait_ready)

            async def all_settled() -> bool:
                log = await _log(proc.url)
                return len(log) == CITIZENS and all(d["status"] in ("sent", "uncertain") for d in log)

            await wait_until(all_settled, timeout=90, what="every delivery sent or reported uncertain")
            log = await _log(proc.url)
        finally:
            proc.stop()
        accepted = Counter(smtp.message_ids())

    assert max(accepted.values()) == 1, [k for k, n in accepted.items() if n > 1]
    by_status = Counter(d["status"] for d in log)
    sent = {f"<{d['notification_id']}@varde.example>" for d in log if d["status"] == "sent"}
    uncertain = {f"<{d['notification_id']}@varde.example>" for d in log if d["status"] == "uncertain"}
    assert sent <= set(accepted)  # every delivery marked sent really arrived
    assert set(accepted) <= sent | uncertain  # and nothing arrived that the log cannot account for
    assert by_status["sent"] + by_status["uncertain"] == CITIZENS
    assert all(d["last_error"] == "delivery uncertain after crash" for d in log if d["status"] == "uncertain")
    events = await notify_events(kafka_bootstrap, partnership, CITIZENS, timeout=20)
    reported = {p["notification_id"] for _, p in events}
    assert {d["notification_id"] for d in log} <= reported  # each outcome was published
    print(f"\nSIGKILL x2: {len(accepted)} e-mails for {CITIZENS} deliveries, {by_status['uncertain']} uncertain, none twice")
