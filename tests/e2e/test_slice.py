"""One referral through all four services, each a separate process on a real
broker and PostgreSQL: POST /referrals -> ReferralReceived -> journey assigns a
guide -> clarification -> NeedsClarified -> matching proposes with reasons ->
notify e-mails the guide through SMTP."""

from __future__ import annotations

import asyncio
import time

import httpx

from brobygger_contracts.events.matching import MatchProposed
from brobygger_stack.demo import DemoEndpoints, load_partnership, play
from brobygger_stack.smtp_catcher import count_in_maildir
from brobygger_stack.testing import partnership_topics_on, read_topic_to_end, wait_until


async def test_demo_partnership_reaches_match_proposals_and_emails(stack, kafka_bootstrap):  # noqa: ANN001
    progress: list[str] = []
    started = time.monotonic()
    results = await asyncio.to_thread(play, DemoEndpoints.of_stack(stack), progress.append, 90)
    elapsed = time.monotonic() - started

    # Every citizen got at least one proposal, with reasons, from a consented organisation.
    assert len(results) == len(load_partnership()["citizens"])
    for result in results:
        assert result.guide_id, result
        assert result.proposals, result
    # Lillemor wished for a friend: Red Cross's matching proposes a trained volunteer.
    lillemor = next(r for r in results if r.label.startswith("Lillemor"))
    assert {p["kind"] for p in lillemor.proposals} == {"volunteer_friend"}
    # Every proposal on the bus became one e-mail to the citizen's guide, in the guide's language
    # (counted on the bus: each organisation's matching proposes on its own time).
    async def proposed() -> int:
        matching = await partnership_topics_on(kafka_bootstrap, stack.partnership_id, services={"matching"},
                                               dead_letters=False)  # every organisation's
        records = await read_topic_to_end(kafka_bootstrap, matching, partnership=stack.partnership_id)
        return sum(dict(r.headers)["ce_type"].decode() == MatchProposed.event_type() for r in records)

    async def one_mail_each() -> bool:
        return len(proposal_mails()) == await proposed()

    def proposal_mails() -> list:
        """The guides' e-mails about proposals (each guide also hears of each new citizen: one more mail each)."""
        return [m for m in stack.smtp.messages if not new_citizen(m)]

    def new_citizen(mail) -> bool:  # noqa: ANN001
        return any(mail.subject.startswith(s) for s in ("En ny borger til dig", "En ny invånare till dig", "A new citizen for you"))

    await wait_until(one_mail_each, timeout=30, interval=0.5)
    await asyncio.sleep(2)  # and nothing more arrives
    mails = stack.smtp.messages
    assert len(proposal_mails()) == await proposed()
    assert len(mails) == count_in_maildir(stack.maildir) == len(proposal_mails()) + len(results)  # one per new citizen
    assert len(proposal_mails()) >= sum(len(r.proposals) for r in results)
    guide_mails = {g["email"] for g in load_partnership()["guides"]}
    assert all(set(m.recipients) <= guide_mails for m in mails)
    print(f"\ndemo: {len(results)} citizens, {len(mails)} e-mails in {elapsed:.1f}s")


async def test_no_personal_data_travels_on_the_bus(stack, kafka_bootstrap):  # noqa: ANN001
    await asyncio.to_thread(play, DemoEndpoints.of_stack(stack), lambda _line: None, 90)
    personal = []
    for citizen in load_partnership()["citizens"]:
        card = citizen["card"]
        personal += [card["citizen"]["name"], card["citizen"].get("phone"), card["citizen"].get("address"),
                     card["reason"][:30], card["referrer"].get("name")]
    personal = [p.encode() for p in personal if p]
    every_topic = await partnership_topics_on(kafka_bootstrap, stack.partnership_id)  # dead letters included
    records = await read_topic_to_end(kafka_bootstrap, every_topic, partnership=stack.partnership_id)
    for record in records:
        blob = (record.value or b"") + b"".join(v for _, v in record.headers or ())
        leaked = [p for p in personal if p in blob]
        assert not leaked, f"{record.topic} carries personal data {leaked}"
    assert len(records) > 10


async def test_post_referral_to_email_latency(stack):  # noqa: ANN001
    """Reports the time from POST /referrals (with the guide's clarification
    recorded as soon as the guide is assigned) to the e-mail at the SMTP server."""
    data = load_partnership()
    from brobygger_stack.demo import play_citizen, seed

    eps = DemoEndpoints.of_stack(stack)
    seed(eps, data, lambda _l: None)
    before = len(stack.smtp.messages)
    started = time.monotonic()
    result = play_citizen(eps, data["citizens"][1], lambda _l: None, timeout=60)
    while len(stack.smtp.messages) < before + len(result.proposals):
        assert time.monotonic() - started < 60, "no e-mail within 60s"
        time.sleep(0.02)
    latency = time.monotonic() - started
    print(f"\nPOST /referrals -> e-mail at the SMTP server: {latency:.2f}s")
    with httpx.Client() as http:
        for proc in stack.services.values():
            assert http.get(proc.url + "/health/ready").status_code == 200
            assert b"brobygger_events_consumed_total" in http.get(proc.url + "/metrics").content or proc.package == "referral"


async def test_one_trace_follows_a_referral_across_services(stack, kafka_bootstrap):  # noqa: ANN001
    """ReferralReceived (from the HTTP call) and the GuideAssigned it caused share
    one trace; so do NeedsClarified, the MatchProposed it caused and the
    NotificationSent about the e-mail to the guide."""
    from brobygger_contracts.events.journey import GuideAssigned, NeedsClarified
    from brobygger_contracts.events.matching import MatchProposed
    from brobygger_contracts.events.notify import NotificationSent
    from brobygger_contracts.events.referral import ReferralReceived

    results = await asyncio.to_thread(play, DemoEndpoints.of_stack(stack), lambda _line: None, 90)
    citizen = next(r for r in results if r.label.startswith("Lillemor")).citizen_id

    topics = await partnership_topics_on(kafka_bootstrap, stack.partnership_id, dead_letters=False,
                                         services={e.publisher for e in (ReferralReceived, GuideAssigned, MatchProposed,
                                                                         NotificationSent)})
    records: list = []

    def trace_of(event_cls, key: str | None = None) -> set[str]:  # noqa: ANN001
        traces = set()
        for record in records:
            headers = dict(record.headers)
            if headers["ce_type"].decode() == event_cls.event_type() and (key is None or record.key.decode() == key):
                traces.add(headers["traceparent"].decode().split("-")[1])
        return traces

    async def mailed() -> bool:  # the e-mail about Lillemor's proposal is the last link of the chain
        nonlocal records
        records = await read_topic_to_end(kafka_bootstrap, topics, partnership=stack.partnership_id)
        clarified = trace_of(NeedsClarified, citizen)
        return bool(clarified) and clarified <= trace_of(NotificationSent)

    try:
        await wait_until(mailed, timeout=30, interval=0.2)
    except AssertionError:
        pass  # the assertions below say which link is missing

    assert len(trace_of(ReferralReceived, citizen)) == 1
    assert trace_of(ReferralReceived, citizen) == trace_of(GuideAssigned, citizen)
    clarified = trace_of(NeedsClarified, citizen)
    assert len(clarified) == 1 and trace_of(MatchProposed, citizen) == clarified
    assert clarified <= trace_of(NotificationSent)
