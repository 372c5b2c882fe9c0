"""Messages that fit people (issue 15, case 7): the guide hears of each new citizen; what referrers and
relatives are told carries no score; a citizen no channel reaches becomes their guide's call or letter
(a printable letter from the same template), not an error for IT."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts.events.journey import JourneyCompleted
from brobygger_contracts.events.matching import MatchAccepted
from brobygger_contracts.events.notify import NotificationFailed
from brobygger_contracts.events.referral import ReferralReceived
from notify.adapters.tables import delivery
from notify_testkit import (
    CitizenRegistry, contact_body, deliveries, guide_assigned, notify_events, notify_settings, produce, refer,
    referral_received, running_notify, settled, tokens, wait_until,
)

NOW = datetime.now(UTC)


async def test_the_guide_is_told_of_each_new_citizen_in_their_language(kafka_bootstrap, database_url, smtp_catcher):
    """Reproduced on main: GuideAssigned linked the guide to the citizen and told no one."""
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, every_default_rule=True)
    p = settings.partnership_id
    first, second = uuid.uuid4(), uuid.uuid4()
    async with running_notify(settings) as (_runtime, client):
        assert (await client.post("/contacts", json=contact_body("guide-sv", "sv"))).status_code == 201
        await refer(kafka_bootstrap, p, [first, second])
        told = [await produce(kafka_bootstrap, guide_assigned(c, "guide-sv"), p) for c in (first, second)]
        for event_id in told:
            [line] = await settled(client, event_id)
            assert line["status"] == "sent" and line["recipient_role"] == "guide" and line["template"] == "guide_assigned"
    subjects = sorted(m.subject for m in smtp_catcher.messages)
    assert subjects == sorted(f"En ny invånare till dig (invånare {str(c)[:8]})" for c in (first, second))


async def test_no_score_goes_to_referrers_or_relatives(kafka_bootstrap, database_url, smtp_catcher):
    """Reproduced on main: the referrer's (a relative's) e-mail said "Loneliness ... 8 at the start, 5 now"."""
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    p = settings.partnership_id
    citizen = uuid.uuid4()
    async with running_notify(settings) as (runtime, client):
        relative = contact_body("familien-hansen", "en", role="referrer", display_name="Karen Hansen")
        assert (await client.post("/contacts", json=relative)).status_code == 201
        referral = referral_received(citizen, referrer_org="familien-hansen")
        await produce(kafka_bootstrap, referral, p)
        known = runtime.metrics.events_consumed.labels(ReferralReceived.event_type(), "handled")
        await wait_until(lambda: known._value.get() == 1, what="the referral known")  # weeks before, in life
        ended = await produce(kafka_bootstrap, JourneyCompleted(
            journey_id=uuid.uuid4(), citizen_id=citizen, outcome="completed", days_in_journey=240,
            baseline={"lack_companionship": 3, "left_out": 3, "isolated": 2},
            final={"lack_companionship": 2, "left_out": 2, "isolated": 1}, completed_at=NOW), p)
        [line] = await settled(client, ended)
        async with runtime.db.sessions() as s:
            stored = (await s.execute(sa.select(delivery.c.variables).where(delivery.c.source_event_id == ended))).scalar_one()
    [mail] = smtp_catcher.messages
    day = f"{referral.received_at.day} {referral.received_at:%B}"
    assert line["status"] == "sent" and mail.subject == f"The journey of the person you referred on {day} has ended"
    assert "240 days" in mail.body and "Loneliness" not in mail.body and str(citizen)[:8] not in mail.subject + mail.body
    assert not {"baseline", "final", "score"} & set(stored)  # not even kept with the delivery (a resend, a webhook)


async def test_a_citizen_without_email_or_mobile_is_their_guides_letter_not_an_it_error(kafka_bootstrap, database_url, smtp_catcher):
    """Reproduced on main: "recipient has no sms address" went to the operators; the guide heard nothing."""
    unreachable = uuid.uuid4()
    details = {"name": "Lillemor Jensen", "phone": None, "email": None, "address": "Storegade 3", "postal_code": "6800",
               "language": "da"}
    with CitizenRegistry({str(unreachable): details}) as referral:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, citizen_contact_url=referral.url)
        p = settings.partnership_id
        async with running_notify(settings) as (runtime, client):
            for body in (contact_body("anne", "da"), contact_body("it-vagt", "da", role="operator")):
                assert (await client.post("/contacts", json=body)).status_code == 201
            await refer(kafka_bootstrap, p, [unreachable])
            await produce(kafka_bootstrap, guide_assigned(unreachable, "anne"), p)
            told = await produce(kafka_bootstrap, MatchAccepted(
                proposal_id=uuid.uuid4(), citizen_id=unreachable, kind="activity", candidate_id=uuid.uuid4(),
                accepted_at=NOW), p)
            await settled(client, told, want=2)
            to_citizen = [d for d in await deliveries(client, source_event_id=told) if d["recipient_role"] == "citizen"][0]
            [(_, failed)] = await notify_events(kafka_bootstrap, p, 1, event_type="NotificationFailed")
            nid = to_citizen["notification_id"]

            anne = tokens().auth("guide", org="varde-kommune", subject="anne")
            letter = await client.get(f"/deliveries/{nid}/letter", auth=anne)
            page = await client.get(f"/deliveries/{nid}/letter", params={"format": "html"}, auth=anne)
            karin = await client.get(f"/deliveries/{nid}/letter", auth=tokens().auth("guide", org="varde-kommune", subject="karin"))
            partner = await client.get(f"/deliveries/{nid}/letter", auth=tokens().auth("coordinator", org="red-cross"))
            coordinator = await client.get(f"/deliveries/{nid}/letter")
            not_a_citizens = [d for d in await deliveries(client, source_event_id=told) if d["recipient_role"] == "guide"][0]
            guides_own = await client.get(f"/deliveries/{not_a_citizens['notification_id']}/letter")

            own = runtime.metrics.events_consumed.labels(NotificationFailed.event_type(), "handled")
            await wait_until(lambda: own._value.get() == 1, what="notify read its own NotificationFailed")
            handled_failures = [d for d in await deliveries(client) if d["source_event_type"] == "NotificationFailed"]

    assert to_citizen["status"] == "failed" and to_citizen["last_error"].startswith("no_channel")
    assert (failed["reason"], failed["recipient_role"], failed["citizen_id"]) == ("no_channel", "citizen", str(unreachable))
    assert handled_failures == []  # no operator alert for it
    assert letter.status_code == 200 and letter.headers["content-type"].startswith("text/plain")
    assert letter.text.startswith("Tak for dit ja\n\nKære Lillemor Jensen. Tak fordi du har sagt ja til at være med i en aktivitet")
    assert page.status_code == 200 and "<h1>Tak for dit ja</h1>" in page.text and "Kære Lillemor Jensen" in page.text
    assert (karin.status_code, partner.status_code, coordinator.status_code) == (404, 404, 200)
    assert guides_own.status_code == 404  # only messages to a citizen become letters
    assert [m.recipients for m in smtp_catcher.messages] == [["anne@varde.example"]]  # the guide's own news, no IT alert


def test_scores_are_for_staff_only():
    from notify.domain.disclosure import facts_for

    facts = {"citizen_id": "c", "baseline": {"total": 8}, "final": {"total": 5}, "score": 0.8, "days_in_journey": 240}
    for role in ("referrer", "citizen", "volunteer"):
        assert facts_for(role, facts) == {"citizen_id": "c", "days_in_journey": 240}
    assert facts_for("guide", facts) == facts


def test_a_letter_page_escapes_what_it_prints():
    from notify.adapters.letters import as_html, as_text
    from notify.adapters.templates import RenderedMessage

    message = RenderedMessage(subject="Tak for dit ja", body="Kære <b>Lillemor</b>\n\nVenlig hilsen\n")
    page = as_html(message, "da")
    assert '<html lang="da">' in page and "&lt;b&gt;Lillemor&lt;/b&gt;" in page and "<b>" not in page
    assert as_text(message).startswith("Tak for dit ja\n\nKære <b>Lillemor</b>")


def test_the_day_is_said_as_the_reader_says_it():
    from notify.adapters.templates import TemplateLibrary

    variables = {"citizen_id": "0a1b2c3d-1111", "to_state": "contacted", "referred_at": "2026-03-03T09:00:00+00:00",
                 "recipient_name": "Karen"}
    said = {lang: TemplateLibrary().render("journey_milestone_referrer", lang, variables).subject for lang in ("da", "sv", "en")}
    assert said == {"da": "Nyt om personen, du henviste den 3. marts", "sv": "Nytt om personen du remitterade den 3 mars",
                    "en": "News of the person you referred on 3 March"}
