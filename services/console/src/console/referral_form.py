"""A referral card from the console's form: the fields are named by the API's
own paths (`citizen.name`, `consent.organisations`), so every reason the API
gives for a field is shown beside that field; empty fields are left out and
the API decides what is required."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays

STAFF_SOURCES = ("home_care", "nurse", "gp", "therapist", "dementia_consultant", "hospital", "municipal_staff",
                 "outreach")
PUBLIC_SOURCES = ("relative", "self")
CONSENT_GIVERS = ("citizen", "relative", "legal_guardian", "power_of_attorney")
URGENCIES = ("routine", "soon", "urgent")
FIRST_CONTACT_WORKING_DAYS = {"routine": 3, "soon": 3, "urgent": 1}
"""journey's FIRST_CONTACT_WORKING_DAYS and URGENT_FIRST_CONTACT_WORKING_DAYS defaults: the receipt's promise."""


def card_from_form(fields: dict[str, Any], consent_orgs: list[str], *, staff_org: str | None,
                   now: datetime | None = None) -> dict[str, Any]:
    """The card to POST /referrals. `staff_org`: the referring professional's organisation (from their login,
    never from the form); None on the public page, where the source is a relative or the citizen."""
    def text(name: str) -> str | None:
        value = fields.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    source = text("referrer.source")
    referrer: dict[str, Any] = {"source": source}
    if staff_org is not None:
        referrer["org"] = staff_org
    for name in ("name", "phone", "email", "relation"):
        if text(f"referrer.{name}"):
            referrer[name] = text(f"referrer.{name}")
    if fields.get("referrer.wants_milestones"):
        referrer["wants_milestones"] = True
    citizen: dict[str, Any] = {}
    for name in ("name", "postal_code", "address", "phone", "email", "language"):
        if text(f"citizen.{name}"):
            citizen[name] = text(f"citizen.{name}")
    birth_year = text("citizen.birth_year")
    if birth_year is not None:
        citizen["birth_year"] = int(birth_year) if birth_year.isdigit() else birth_year
    if fields.get("citizen.lives_alone") in ("yes", "no"):
        citizen["lives_alone"] = fields["citizen.lives_alone"] == "yes"
    given_by = "citizen" if source == "self" else text("consent.given_by")
    card: dict[str, Any] = {
        "referrer": referrer, "citizen": citizen, "reason": text("reason") or "",
        "urgency": text("urgency") or "routine",
        "consent": {"given_by": given_by, "given_at": (now or datetime.now(UTC)).isoformat(),
                    "organisations": consent_orgs},
    }
    return card


def first_contact_by(sent: date, urgency: str, country: str = "DK") -> date:
    """The last working day a guide calls by (weekends and public holidays are not working days)."""
    days = FIRST_CONTACT_WORKING_DAYS.get(urgency, 3)
    off = holidays.country_holidays(country, years=range(sent.year, sent.year + 2))
    day = sent
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            days -= 1
    return day
