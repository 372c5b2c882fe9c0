"""Each default rule against the real broker, database, SMTP catcher and a webhook
receiver; rules from a partnership's own file."""

from __future__ import annotations

from babel.dates import format_date

import json
import uuid
from datetime import UTC, datetime

import pytest

from brobygger_contracts.events.journey import FirstVisitAccompanied, FollowUpDue, GroupBecameSelfRunning, JourneyCompleted, JourneyStateChanged
from brobygger_contracts.events.referral import ReferralEscalated, ReferralReceived
from brobygger_contracts.events.matching import MatchAccepted, ProposalKind
from notify.bootstrap import build
from notify.domain.rules import RuleError
from notify_testkit import (
    LOCAL_WEBHOOKS, HttpSink, contact_body, deliveries, guide_assigned, match_proposed, notify_settings, produce, refer,
    referral_received, running_notify, wait_until,
)

NOW = datetime.now(UTC)


async def test_each_default_rule_reaches_its_recipients(kafka_bootstrap, database_url, smtp_catcher):
    citizen, volunteer, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with HttpSink() as coordinator_hook:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, webhook_secret="k",
                                   webhook_allowed_hosts=LOCAL_WEBHOOKS, every_default_rule=True)
        p = settings.partnership_id
        async with running_notify(settings) as (_runtime, client):
            contacts = [
                contact_body("guide-a", "da"),
                contact_body("guide-b", "en"),
                contact_body(str(volunteer), "sv", role="volunteer", display_name="Karin"),
                contact_body("fac-1", "en", role="facilitator", display_name="Ole"),
                {"recipient_id": "coord-1", "role": "coordinator", "display_name": "Styregruppen", "language": "da",
                 "webhook_url": coordinator_hook.url},
            ]
            for body in contacts:
                assert (await client.post("/contacts", json=body)).status_code == 201
            await refer(kafka_bootstrap, p, [citizen])
            await produce(kafka_bootstrap, guide_assigned(citizen, "guide-a"), p)
            accepted = MatchAccepted(proposal_id=uuid.uuid4(), citizen_id=citizen, kind="volunteer_friend",
                                     candidate_id=volunteer, accepted_at=NOW)
            await produce(kafka_bootstrap, accepted, p)
            await produce(kafka_bootstrap, accepted.model_copy(update={"kind": ProposalKind.activity, "proposal_id": uuid.uuid4()}), p)
            await produce(kafka_bootstrap, FirstVisitAccompanied(journey_id=uuid.uuid4(), citizen_id=citizen,
                                                                 companion="guide", hours=2, visited_at=NOW), p)
            await produce(kafka_bootstrap, FollowUpDue(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="guide-b",
                                                       kind="follow_up", due_at=NOW), p)
            await produce(kafka_bootstrap, GroupBecameSelfRunning(group_id=group, facilitator_id="fac-1",
                                                                  reason="meetings_without_facilitator",
                                                                  meetings_held=6, became_self_running_at=NOW), p)
            await wait_until(lambda: len(smtp_catcher.messages) >= 7 and len(coordinator_hook.accepted) >= 1,
                             what="every rule's message")

            async def all_marked_sent() -> bool:  # the webhook's answer arrives before its delivery row says sent
                return len(await deliveries(client, status="sent")) >= 8

            await wait_until(all_marked_sent, what="every delivery marked sent")
            log = await deliveries(client, status="sent")
            to_guide_a = await deliveries(client, recipient_id="guide-a")

    by_recipient: dict[str, list[str]] = {}
    for mail in smtp_catcher.messages:
        by_recipient.setdefault(mail.recipients[0].split("@")[0], []).append(mail.subject)
    assert sorted(by_recipient["guide-a"]) == sorted([
        f"En ny borger til dig (borger {str(citizen)[:8]})",  # the guide is told of the new citizen
        f"Borger {str(citizen)[:8]} har sagt ja til en besøgsven",
        f"Borger {str(citizen)[:8]} har sagt ja til en aktivitet",
        f"Første besøg er gennemført for borger {str(citizen)[:8]}",
    ])
    assert by_recipient[str(volunteer)] == ["Du har fått en ny vän att besöka"]
    assert by_recipient["guide-b"] == [f"Time for a follow-up with citizen {str(citizen)[:8]}"]
    assert by_recipient["fac-1"] == ["Your group now runs itself"]
    [(headers, hook)] = coordinator_hook.accepted
    assert hook["template"] == "group_self_running_coordinator" and hook["subject"] == "En gruppe er blevet selvkørende"
    assert headers["x-brobygger-signature"].startswith("sha256=")
    assert len(log) == 8 and {d["recipient_role"] for d in log} == {"guide", "volunteer", "facilitator", "coordinator"}
    assert len(to_guide_a) == 4 and all(d["recipient_id"] == "guide-a" for d in to_guide_a)
    assert {d["masked_address"] for d in log if d["channel"] == "webhook"} == {"http://127.0.0.1/***"}


async def test_a_partnerships_own_rules_file_decides(kafka_bootstrap, database_url, smtp_catcher, tmp_path):
    rules = tmp_path / "varde.json"
    rules.write_text(json.dumps({"rules": [
        {"id": "proposals-to-coordinators", "event": "MatchProposed",
         "recipient": {"role": "coordinator", "from": "directory"}, "template": "match_proposed", "channels": ["email"]},
    ]}))
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, notify_rules_file=str(rules))
    citizen = uuid.uuid4()
    async with running_notify(settings) as (_runtime, client):
        await client.post("/contacts", json=contact_body("guide-x", "da"))
        await client.post("/contacts", json=contact_body("coord-x", "en", role="coordinator"))
        await refer(kafka_bootstrap, settings.partnership_id, [citizen])
        await produce(kafka_bootstrap, guide_assigned(citizen, "guide-x"), settings.partnership_id)
        await produce(kafka_bootstrap, match_proposed(citizen), settings.partnership_id)
        await wait_until(lambda: len(smtp_catcher.messages) == 1, what="the coordinator's e-mail")
    assert smtp_catcher.messages[0].recipients == ["coord-x@varde.example"]


def test_a_rules_file_naming_a_missing_template_is_refused_at_start(tmp_path, kafka_bootstrap):
    rules = tmp_path / "bad.json"
    rules.write_text(json.dumps({"rules": [
        {"id": "r", "event": "MatchProposed", "recipient": {"role": "guide", "from": "citizen_guide"}, "template": "nope"},
    ]}))
    settings = notify_settings(kafka_bootstrap, "sqlite+aiosqlite:///:memory:", notify_rules_file=str(rules))
    with pytest.raises(RuleError, match="da/nope"):
        build(settings)


MILESTONE_STEPS = [  # (step, from, to): three milestones among steps a referrer need not hear about
    ("contact", "referred", "contacted"), ("contact", "contacted", "contacted"), ("clarify", "contacted", "clarified"),
    ("propose", "clarified", "matching"), ("accept", "matching", "match_accepted"),
    ("accept", "match_accepted", "match_accepted"), ("first_visit", "match_accepted", "first_visit"),
    ("attend", "first_visit", "active"), ("attend", "active", "active"),
]


async def test_referrers_who_opted_in_hear_the_milestones(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    p = settings.partnership_id
    opted_in, not_opted_in = uuid.uuid4(), uuid.uuid4()
    async with running_notify(settings) as (runtime, client):
        referrer = contact_body("varde-hjemmepleje", "da", role="referrer", display_name="Hjemmeplejen Varde")
        assert (await client.post("/contacts", json=referrer)).status_code == 201
        await produce(kafka_bootstrap, referral_received(opted_in, referrer_org="varde-hjemmepleje"), p)
        await produce(kafka_bootstrap, referral_received(not_opted_in, referrer_org="abf"), p)
        handled = runtime.metrics.events_consumed.labels(ReferralReceived.event_type(), "handled")
        await wait_until(lambda: handled._value.get() == 2, what="the referrals known")  # weeks before, in life
        for citizen in (opted_in, not_opted_in):
            for step, before, after in MILESTONE_STEPS:
                await produce(kafka_bootstrap, JourneyStateChanged(
                    journey_id=uuid.uuid4(), citizen_id=citizen, step=step, from_state=before, to_state=after,
                    changed_at=NOW), p)
            await produce(kafka_bootstrap, FirstVisitAccompanied(journey_id=uuid.uuid4(), citizen_id=citizen,
                                                                 companion="volunteer", hours=1.5, visited_at=NOW), p)
            await produce(kafka_bootstrap, JourneyCompleted(
                journey_id=uuid.uuid4(), citizen_id=citizen, outcome="completed", days_in_journey=240,
                baseline={"lack_companionship": 3, "left_out": 3, "isolated": 2},
                final={"lack_companionship": 2, "left_out": 2, "isolated": 1}, completed_at=NOW), p)
        escalated = ReferralEscalated(referral_id=uuid.uuid4(), citizen_id=opted_in, reason="mental_health",
                                      receiving_unit="varde-psykiatri", escalated_at=NOW)
        await produce(kafka_bootstrap, escalated, p)
        await wait_until(lambda: len(smtp_catcher.messages) >= 6, what="the referrer's six e-mails")
        log = await deliveries(client, recipient_id="varde-hjemmepleje")
    mails = {m.subject: m for m in smtp_catcher.messages}
    assert all(m.recipients == ["varde-hjemmepleje@varde.example"] for m in mails.values())
    person = f"personen, du henviste den {format_date(datetime.now(UTC).date(), 'd. MMMM', locale='da_DK')}"
    assert set(mails) == {  # issue 15 case 7: the day they referred, never the pseudonymous id, never a score
        f"{person.capitalize()}, er kommet godt i gang",
        f"Forløbet er afsluttet for {person}",
        f"Om {person}: fagfolk har taget over",
        f"Nyt om {person}",
    }
    milestones = [m.body for m in smtp_catcher.messages if m.subject.startswith("Nyt om")]
    assert len(milestones) == 3 and len(set(milestones)) == 3  # contacted, matched, active: not every step
    ended = mails[f"Forløbet er afsluttet for {person}"].body
    assert "240 dage" in ended and "ved start" not in ended and " 8 " not in ended
    assert "varde-psykiatri" in mails[f"Om {person}: fagfolk har taget over"].body
    assert str(opted_in)[:8] not in str([(m.subject, m.body) for m in mails.values()])
    assert "mental" not in str([m.body for m in mails.values()])  # the reason stays with the professionals
    assert len(log) == 6 and {d["recipient_role"] for d in log} == {"referrer"}


def test_a_rules_file_naming_a_field_the_event_lacks_is_refused(tmp_path, kafka_bootstrap):
    rules = tmp_path / "typo.json"
    rules.write_text(json.dumps({"rules": [
        {"id": "r", "event": "MatchAccepted", "when": {"kind": "volunteer_friend"},
         "recipient": {"role": "volunteer", "from": "event:volunteer_id"}, "template": "match_accepted_volunteer"},
    ]}))
    settings = notify_settings(kafka_bootstrap, "sqlite+aiosqlite:///:memory:", notify_rules_file=str(rules))
    with pytest.raises(RuleError, match="MatchAccepted has no field 'volunteer_id'"):
        build(settings)
