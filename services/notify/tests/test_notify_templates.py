"""Every template the rules use renders in Danish, Swedish and English; a missing variable fails loudly."""

from __future__ import annotations

import pytest

from notify.adapters.rules_file import load_rule_book
from notify.adapters.templates import TemplateLibrary, TemplateProblem
from notify.domain.model import LANGUAGES

LIBRARY = TemplateLibrary()
BOOK = load_rule_book(None, "demo", LIBRARY)

SAMPLE = {
    "recipient_name": "Hanne Jensen",
    "citizen_id": "0a1b2c3d-1111-2222-3333-444455556666",
    "group_id": "9f8e7d6c-1111-2222-3333-444455556666",
    "kind": "activity",
    "candidate_name": "Gåfællesskab Varde",
    "score": 0.82,
    "reasons": ["both enjoy walking", "1.2 km away"],
    "hours": 2.0,
    "meetings_held": 6,
    "notification_id": "5e4d3c2b-1111-2222-3333-444455556666",
    "failed_recipient_id": "guide-1",
    "channel": "sms",
    "attempts": 5,
    "cause": "SMS gateway answered 503",
    "referral_id": "7a6b5c4d-1111-2222-3333-444455556666",
    "receiving_unit": "varde-psykiatri",
    "days_in_journey": 240,
    "outcome": "completed",
    "baseline": {"lack_companionship": 3, "left_out": 3, "isolated": 2, "total": 8},
    "final": {"lack_companionship": 2, "left_out": 2, "isolated": 1, "total": 5},
    "visit_at": "2026-12-01T09:00:00Z",
    "companion": "volunteer",
    "from_state": "first_visit",
    "to_state": "active",
    # VolunteerAsked (issue 14): what the volunteer needs to decide
    "answer_due": "2026-12-04T09:00:00Z",
    "postal_code": "6800",
    "age_band": "80-89",
    "languages": ["da"],
    "shared_interests": ["baking_and_cooking", "walking"],
    "shared_times": [{"day": "tue", "part": "morning"}],
    "distance_km": 2,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(BOOK.templates))
def test_every_template_renders_in_every_language(template, language):
    message = LIBRARY.render(template, language, SAMPLE)
    assert message.subject and "\n" not in message.subject
    assert "Hanne Jensen" in message.body
    assert "None" not in message.subject + message.body
    assert "{{" not in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_proposal_shows_kind_candidate_score_and_reasons(language):
    message = LIBRARY.render("match_proposed", language, SAMPLE)
    assert "Gåfællesskab Varde" in message.subject
    assert "- both enjoy walking\n- 1.2 km away\n" in message.body
    assert "82" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_variable_raises_instead_of_leaving_a_gap(language):
    incomplete = {k: v for k, v in SAMPLE.items() if k != "reasons"}
    with pytest.raises(TemplateProblem, match="reasons"):
        LIBRARY.render("match_proposed", language, incomplete)


def test_an_unknown_template_is_a_problem_not_an_empty_message():
    with pytest.raises(TemplateProblem, match="no template"):
        LIBRARY.render("no_such_template", "da", SAMPLE)


def test_wording_follows_the_language():
    assert LIBRARY.render("match_proposed", "da", SAMPLE).body.startswith("Kære Hanne Jensen")
    assert LIBRARY.render("match_proposed", "sv", SAMPLE).body.startswith("Hej Hanne Jensen")
    assert LIBRARY.render("match_proposed", "en", SAMPLE).body.startswith("Dear Hanne Jensen")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_referrer_hears_how_long_but_never_how_lonely(language):
    """Issue 15 case 7: loneliness totals went to referrers (relatives among them); now no template for them shows one."""
    body = LIBRARY.render("journey_completed_referrer", language, SAMPLE).body
    assert "240" in body and "9 =" not in body and str(SAMPLE["baseline"]["total"]) not in body


@pytest.mark.parametrize(("language", "said"), [
    ("da", "tirsdag den 1. december kl. 10.00"),
    ("sv", "tisdag den 1 december kl. 10.00"),
    ("en", "Tuesday 1 December at 10:00"),
])
def test_the_reminder_names_the_visit_as_people_say_it_in_local_time(language, said):
    for template in ("first_visit_reminder_citizen", "first_visit_reminder_companion"):
        assert said in LIBRARY.render(template, language, SAMPLE, timezone="Europe/Copenhagen").body


def test_the_reminder_follows_the_readers_time_zone():
    body = LIBRARY.render("first_visit_reminder_companion", "en", SAMPLE, timezone="Atlantic/Reykjavik").body
    assert "Tuesday 1 December at 09:00" in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_milestone_reads_differently(language):
    bodies = {state: LIBRARY.render("journey_milestone_referrer", language, {**SAMPLE, "to_state": state}).body
              for state in ("contacted", "match_accepted", "active")}
    assert len(set(bodies.values())) == 3


def test_a_proposals_reasons_are_rendered_in_the_readers_language_from_their_codes():
    """Issue 15 case 5: the reasons were frozen in the proposing instance's language (here Danish)."""
    proposal = {**SAMPLE, "reasons": ["en aktivitet med gåture", "1 km væk"], "reason_codes": [
        {"code": "activity_for", "params": {"interests": ["walking", "coffee_and_conversation"]}},
        {"code": "km", "params": {"km": 1}}, {"code": "transport", "params": {"need": "flex_transport"}}]}
    swedish = LIBRARY.render("match_proposed", "sv", proposal).body
    assert "- en aktivitet med promenader och fika och samtal\n- 1 km bort\n- resa: färdtjänst/flexlinje" in swedish
    english = LIBRARY.render("match_proposed", "en", proposal).body
    assert "- an activity for walking and coffee and conversation\n- 1 km away\n" in english
    older = LIBRARY.render("match_proposed", "sv", {**proposal, "reason_codes": None}).body
    assert "- en aktivitet med gåture\n- 1 km væk\n" in older  # a proposal from before codes: as written
