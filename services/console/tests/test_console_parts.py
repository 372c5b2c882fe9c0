"""The console's small parts: the card built from a form, the receipt's date,
waiting times, reasons from a service's refusal, charts, languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from console.charts import Bar, bar_chart
from console.clients.base import reasons_of
from console.i18n import CATALOGUES, Formats, choose, translator
from console.referral_form import card_from_form, first_contact_by
from console.waiting import waiting


def test_a_staff_card_takes_the_organisation_from_the_login_never_from_the_form() -> None:
    fields = {"referrer.source": "home_care", "referrer.org": "abf", "citizen.name": " Frida Hansen ",
              "citizen.birth_year": "1942", "citizen.postal_code": "6800", "citizen.phone": "", "reason": "Alone.",
              "citizen.lives_alone": "yes", "consent.given_by": "citizen", "urgency": "soon"}
    card = card_from_form(fields, ["varde-kommune"], staff_org="varde-kommune",
                          now=datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert card["referrer"] == {"source": "home_care", "org": "varde-kommune"}
    assert card["citizen"] == {"name": "Frida Hansen", "birth_year": 1942, "postal_code": "6800", "lives_alone": True}
    assert card["consent"] == {"given_by": "citizen", "given_at": "2026-03-02T09:00:00+00:00",
                               "organisations": ["varde-kommune"]}
    assert card["urgency"] == "soon"


def test_a_public_card_names_no_organisation_and_a_self_referral_is_the_citizens_own_consent() -> None:
    card = card_from_form({"referrer.source": "self", "consent.given_by": "relative", "citizen.birth_year": "19x2"},
                          [], staff_org=None)
    assert "org" not in card["referrer"]
    assert card["consent"]["given_by"] == "citizen"
    assert card["citizen"]["birth_year"] == "19x2"  # the API answers why it is not a year, at this field


def test_the_receipt_promises_a_call_within_working_days_skipping_easter() -> None:
    # Wednesday 1 April 2026: Maundy Thursday, Good Friday, the weekend and Easter Monday are not working days
    assert first_contact_by(date(2026, 4, 1), "routine") == date(2026, 4, 9)
    assert first_contact_by(date(2026, 4, 1), "urgent") == date(2026, 4, 7)
    assert first_contact_by(date(2026, 3, 2), "routine") == date(2026, 3, 5)  # Monday -> Thursday


def test_waiting_too_long_depends_on_the_step_waited_for() -> None:
    now = datetime(2026, 3, 31, tzinfo=UTC)
    assert waiting("referred", "2026-03-20T10:00:00Z", now).too_long  # 10 days without a first call
    assert not waiting("matching", "2026-03-20T10:00:00Z", now).too_long  # 10 of 30 days for a match
    assert waiting("matching", "2026-03-20T10:00:00Z", now).days == 10
    assert waiting("active", "2026-01-01T10:00:00Z", now) is None


def test_reasons_come_with_the_field_they_are_about() -> None:
    invalid = httpx.Response(422, json={"detail": [{"loc": ["body", "citizen", "birth_year"],
                                                    "msg": "Input should be a valid integer"}]})
    assert reasons_of(invalid) == [("citizen.birth_year", "Input should be a valid integer")]
    conflict = httpx.Response(409, json={"detail": {"error": "illegal_transition", "reason": "not after exit"}})
    assert reasons_of(conflict) == [("", "not after exit")]
    assert reasons_of(httpx.Response(400, text="plain")) == [("", "plain")]


def test_a_chart_scales_to_the_largest_bar_and_says_why_a_small_cell_is_empty() -> None:
    svg = bar_chart("Funnel <3", [Bar("referred", 10, "10"), Bar("first visit", 5, "5"),
                                  Bar("completed", None, "fewer than 5")], width=500, label_width=100)
    widths = [int(w) for w in __import__("re").findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert "fewer than 5" in svg and 'role="img"' in svg and "Funnel &lt;3" in svg


def test_the_language_is_the_persons_choice_then_their_browsers_then_danish() -> None:
    assert choose("sv", "en-GB,en;q=0.8") == "sv"
    assert choose(None, "en-GB,en;q=0.8") == "en"
    assert choose("xx", "fr-FR") == "da"
    assert translator("sv")("Log in") == "Logga in"
    assert translator("en")("state:matching") == "waiting for a match"
    assert translator("da")("{days} days", days=3) == "3 dage"
    # every text the Danish catalogue has, the Swedish one has too
    assert set(CATALOGUES["da"]) == set(CATALOGUES["sv"])


def test_dates_and_numbers_in_the_persons_locale() -> None:
    assert Formats("da").number(1234.5) == "1.234,5"
    assert Formats("en").number(1234.5) == "1,234.5"
    assert Formats("sv").date("2026-11-26T10:00:00Z") == "26 nov. 2026"
    assert Formats("da").date(None) == "–"


def test_every_text_of_the_pages_is_in_danish_and_swedish() -> None:
    """Each `_("...")` and `title=`/`text=` literal of the templates and pages has a translation."""
    import re
    from pathlib import Path

    import console

    root = Path(console.__file__).parent
    sources = [p.read_text() for p in [*root.glob("templates/*.j2"), *root.glob("pages/*.py"), root / "app.py"]]
    literals = {m for text in sources for m in re.findall(r'_\(\s*"([^"]+)"', text)}
    literals |= {m for text in sources for m in re.findall(r'(?<=, )(?:title|text)="([^"]+)"', text)}
    literals |= {m for text in sources for m in re.findall(r'\(\d{3}, "([^"]+)", "([^"]+)"', text) for m in m}
    missing = sorted(t for t in literals if t not in CATALOGUES["da"] and not t.endswith(":"))
    assert missing == []


def test_a_flood_of_new_sessions_pushes_out_idle_anonymous_ones_never_a_logged_in_person() -> None:
    from types import SimpleNamespace

    from console.sessions import Person, SessionStore

    ticks = iter(range(1, 1000))
    store = SessionStore(idle_seconds=3600, secure_cookies=False, clock=lambda: float(next(ticks)), max_sessions=3)

    def request(cookie: str = "") -> SimpleNamespace:
        return SimpleNamespace(cookies={"console_session": cookie} if cookie else {}, state=SimpleNamespace())

    worker = store.of(request())
    worker.person = Person("anne", "varde-kommune", frozenset({"guide"}), "Anne", "t", 0.0)
    for _ in range(10):
        store.of(request())
    assert len(store) == 3
    assert store.of(request(worker.id)) is worker
