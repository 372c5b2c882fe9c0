"""The three messages of two-sided consent and friendships (issue 14), in Danish, Swedish and English:
the volunteer's question, the citizen's confirmation and the check-in (volunteer and guide)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from brobygger_contracts.events.friendships import FriendshipCheckInDue, VolunteerAsked
from brobygger_contracts.examples import sample_opened
from brobygger_contracts.sealed import readable
from notify.adapters.rules_file import load_rule_book
from notify.adapters.templates import TemplateLibrary
from notify.domain.model import LANGUAGES
from notify_testkit import contact_body, notify_settings, produce, refer, running_notify, wait_until

LIBRARY = TemplateLibrary()
BOOK = load_rule_book(None, "demo", LIBRARY)
ASKED = readable(sample_opened(VolunteerAsked)) | {"recipient_name": "Karin Holm"}
CHECK_IN = readable(FriendshipCheckInDue.model_validate(
    {"friendship_id": "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "citizen_id": "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
     "volunteer_id": "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "started_at": "2026-10-01T10:00:00Z",
     "due_at": "2026-10-31T10:00:00Z"})) | {"recipient_name": "Karin Holm"}

SHARED = {"da": "bagning og madlavning", "sv": "bakning och matlagning", "en": "baking and cooking"}
TUESDAY = {"da": "tirsdag formiddag", "sv": "tisdag förmiddag", "en": "Tuesday morning"}
DEADLINE = {"da": "tirsdag den 4. marts kl. 11.15", "sv": "tisdag den 4 mars kl. 11.15", "en": "Tuesday 4 March at 11:15"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_volunteer_is_asked_with_what_they_need_to_decide_and_the_deadline(language):
    message = LIBRARY.render("volunteer_question", language, ASKED)
    assert "6800" in message.subject
    body = message.body
    assert "Karin Holm" in body and "80-89" in body and "2 km" in body
    assert SHARED[language] in body.lower() and TUESDAY[language] in body
    assert DEADLINE[language] in body  # 10:15 UTC is 11:15 in Copenhagen
    assert ASKED["citizen_id"][:8] not in body  # not even the pseudonymous id: nothing beyond what they decide on


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_citizen_is_told_once_the_volunteer_said_yes_too(language):
    message = LIBRARY.render("friend_confirmed_citizen", language, {"recipient_name": "Lillemor", "kind": "volunteer_friend"})
    assert message.subject and "Lillemor" in message.body
    words = {"da": "også sagt ja", "sv": "också tackat ja", "en": "said yes too"}
    assert words[language] in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_check_in_asks_the_volunteer_and_the_guide(language):
    volunteer = LIBRARY.render("friendship_check_in_volunteer", language, CHECK_IN)
    guide = LIBRARY.render("friendship_check_in_guide", language, CHECK_IN)
    assert volunteer.subject == guide.subject and "Karin Holm" in volunteer.body
    assert CHECK_IN["citizen_id"][:8] in guide.body and CHECK_IN["citizen_id"][:8] not in volunteer.body


def test_the_rules_send_each_message_to_the_right_people():
    asked = BOOK.plan("VolunteerAsked", ASKED)
    assert [(p.template, p.target.role, p.target.recipient_id) for p in asked] == [
        ("volunteer_question", "volunteer", ASKED["volunteer_id"])]
    due = BOOK.plan("FriendshipCheckInDue", CHECK_IN)
    assert [(p.template, p.target.role) for p in due] == [
        ("friendship_check_in_volunteer", "volunteer"), ("friendship_check_in_guide", "guide")]
    friend = {"kind": "volunteer_friend", "citizen_id": CHECK_IN["citizen_id"], "candidate_id": ASKED["volunteer_id"]}
    templates = {p.template for p in BOOK.plan("MatchAccepted", friend)}
    assert "friend_confirmed_citizen" in templates and "match_accepted_citizen" not in templates
    activity = {p.template for p in BOOK.plan("MatchAccepted", friend | {"kind": "activity"})}
    assert "match_accepted_citizen" in activity and "friend_confirmed_citizen" not in activity


async def test_the_volunteer_gets_exactly_one_question_in_their_language(kafka_bootstrap, database_url, smtp_catcher):
    """Real broker, PostgreSQL and SMTP catcher: VolunteerAsked (delivered twice) -> one e-mail to the volunteer,
    in Swedish, with what they need to decide."""
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    partnership = settings.partnership_id
    async with running_notify(settings) as (runtime, client):
        volunteer_id = uuid.uuid4()
        body = contact_body(str(volunteer_id), "sv", role="volunteer", display_name="Karin Holm",
                            email="karin@frivillig.example")
        assert (await client.post("/contacts", json=body)).status_code == 201
        citizen = uuid.uuid4()
        await refer(kafka_bootstrap, partnership, [citizen])
        now = datetime.now(UTC)
        asked = VolunteerAsked(
            proposal_id=uuid.uuid4(), citizen_id=citizen, volunteer_id=volunteer_id, org="red-cross", asked_at=now,
            answer_due=now + timedelta(hours=72), postal_code="6800", age_band="80-89", languages=["da", "sv"],
            shared_interests=["walking"], shared_times=[{"day": "wed", "part": "afternoon"}], distance_km=3)
        event_id = await produce(kafka_bootstrap, asked, partnership, org="red-cross")
        await wait_until(lambda: len(smtp_catcher.messages) >= 1, what="the question")
        await produce(kafka_bootstrap, asked, partnership, org="red-cross", event_id=event_id)  # a redelivery
        await wait_until(lambda: runtime.metrics.inbox_duplicates.labels(asked.event_type())._value.get() >= 1,
                         what="the redelivery handled")
        await runtime.dispatcher.dispatch_due()

        mails = smtp_catcher.messages
        assert len(mails) == 1 and mails[0].recipients == ["karin@frivillig.example"]
        assert "vänvolontär" in mails[0].subject and "6800" in mails[0].subject
        assert "promenader" in mails[0].body and "onsdag eftermiddag" in mails[0].body and "3 km" in mails[0].body
        log = (await client.get("/deliveries", params={"source_event_id": event_id})).json()
        assert [(d["recipient_id"], d["template"], d["language"], d["status"]) for d in log] == [
            (str(volunteer_id), "volunteer_question", "sv", "sent")]
