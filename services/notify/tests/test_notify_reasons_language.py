"""Issue 15 case 5 on the real broker, PostgreSQL and SMTP catcher: a proposal made by a Danish-speaking
matching instance reaches a Swedish guide with its reasons in Swedish (before, in the proposer's Danish)."""

from __future__ import annotations

from notify_testkit import citizen_of_guide, match_proposed, notify_settings, produce, running_notify, wait_until


async def test_the_guide_reads_the_reasons_in_their_own_language(kafka_bootstrap, database_url, smtp_catcher):
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    partnership = settings.partnership_id
    async with running_notify(settings) as (_runtime, client):
        citizen = await citizen_of_guide(kafka_bootstrap, partnership, client, "guide-sv", "sv")
        proposal = match_proposed(
            citizen, candidate_name="Promenad och fika",
            reasons=["en aktivitet med kaffe og snak og gåture", "1 km væk", "transport: flextur (guiden bestiller den)"],
            reason_codes=[{"code": "activity_for", "params": {"interests": ["coffee_and_conversation", "walking"]}},
                          {"code": "km", "params": {"km": 1}}, {"code": "transport", "params": {"need": "flex_transport"}}],
            transport_need="flex_transport")
        await produce(kafka_bootstrap, proposal, partnership)
        await wait_until(lambda: len(smtp_catcher.messages) >= 1, what="the e-mail")
        body = smtp_catcher.messages[0].body.replace("\r\n", "\n")
        assert "- en aktivitet med fika och samtal och promenader\n- 1 km bort\n- resa: färdtjänst/flexlinje" in body
        assert "gåture" not in body and "væk" not in body
