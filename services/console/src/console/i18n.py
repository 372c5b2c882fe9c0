"""Danish, Swedish and English: the person's choice (a cookie), else their
browser's Accept-Language, else Danish. Texts are keyed by their English
wording; dates and numbers are written the way the language writes them (babel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from console.catalogue import DA, EN, SV
from console.waiting import parse_time

LANGUAGES = {"da": "Dansk", "sv": "Svenska", "en": "English"}
LOCALES = {"da": "da_DK", "sv": "sv_SE", "en": "en_GB"}
DEFAULT = "da"
CATALOGUES = {"da": DA, "sv": SV, "en": EN}


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def translator(language: str) -> Callable[..., str]:
    catalogue = CATALOGUES.get(language, {})

    def _(text: str, **values: object) -> str:
        found = catalogue.get(text, text)
        return found.format(**values) if values else found

    return _


class Formats:
    """Dates and numbers in the person's locale."""

    def __init__(self, language: str) -> None:
        self.locale = LOCALES.get(language, LOCALES[DEFAULT])

    def date(self, value: str | date | datetime | None) -> str:
        if value in (None, ""):
            return "–"
        moment = parse_time(value) if isinstance(value, str) else value
        return format_date(moment, format="medium", locale=self.locale)

    def datetime(self, value: str | datetime | None) -> str:
        if value in (None, ""):
            return "–"
        moment = parse_time(value) if isinstance(value, str) else value
        return format_datetime(moment, format="short", locale=self.locale, tzinfo="Europe/Copenhagen")

    def number(self, value: float | int | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return format_decimal(round(value, digits), locale=self.locale)
