"""Messages from jinja2 templates, one file per template and language.

The first line of a rendered template is the subject; the rest, after a blank
line, is the body. StrictUndefined makes a missing variable an error instead of
an empty gap in a letter to an older reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, UndefinedError, pass_context

from brobygger_contracts.interests import label as interest_label
from brobygger_contracts.reason_texts import render_all, when
from notify.domain.model import LANGUAGES


class TemplateProblem(Exception):
    """The template is missing or needs a variable the message does not have."""


DEFAULT_TIMEZONE = "Europe/Copenhagen"
_LOCALES = {"da": "da_DK", "sv": "sv_SE", "en": "en_GB"}
_MOMENT_PATTERNS = {  # "tirsdag den 1. december kl. 10.00": day and time as people say them
    "da": "EEEE 'den' d. MMMM 'kl.' HH.mm",
    "sv": "EEEE 'den' d MMMM 'kl.' HH.mm",
    "en": "EEEE d MMMM 'at' HH:mm",
}


@pass_context
def local_moment(context: Mapping[str, Any], value: Any) -> str:
    """`{{ visit_at | local_moment }}`: a moment in the reader's language and time zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    language = context.get("language", "en")
    zone = ZoneInfo(context.get("timezone") or DEFAULT_TIMEZONE)
    return format_datetime(moment, _MOMENT_PATTERNS[language], tzinfo=zone, locale=_LOCALES[language])


@pass_context
def interest_names(context: Mapping[str, Any], codes: Any) -> str:
    """`{{ shared_interests | interest_names }}`: interest codes as the reader's words, comma separated."""
    language = context.get("language", "en")
    return ", ".join(interest_label(c, language) for c in codes or [])


@pass_context
def time_slots(context: Mapping[str, Any], slots: Any) -> str:
    """`{{ shared_times | time_slots }}`: `[{"day": "tue", "part": "morning"}]` as "tirsdag formiddag"."""
    language = context.get("language", "en")
    return ", ".join(when(f"{s['day']} {s['part']}", language) for s in slots or [])


_DATE_PATTERNS = {"da": "d. MMMM", "sv": "d MMMM", "en": "d MMMM"}  # "3. marts", "3 mars", "3 March"


@pass_context
def local_date(context: Mapping[str, Any], value: Any) -> str:
    """`{{ referred_at | local_date }}`: the day as the reader says it, in their time zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    language = context.get("language", "en")
    day = moment.astimezone(ZoneInfo(context.get("timezone") or DEFAULT_TIMEZONE)).date()
    return format_date(day, _DATE_PATTERNS[language], locale=_LOCALES[language])


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


class TemplateLibrary:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("notify", "templates"),
            undefined=StrictUndefined,
            autoescape=False,  # plain text: e-mail text part and SMS
            keep_trailing_newline=True,
        )
        self.env.filters["local_moment"] = local_moment
        self.env.filters["interest_names"] = interest_names
        self.env.filters["time_slots"] = time_slots
        self.env.filters["local_date"] = local_date

    def exists(self, template: str, language: str) -> bool:
        try:
            self.env.get_template(f"{language}/{template}.txt.j2")
            return True
        except TemplateNotFound:
            return False

    def missing(self, templates: frozenset[str]) -> list[str]:
        """`language/template` pairs a rule book needs that do not exist."""
        return [f"{lang}/{t}" for t in sorted(templates) for lang in LANGUAGES if not self.exists(t, lang)]

    def render(self, template: str, language: str, variables: Mapping[str, Any], timezone: str | None = None) -> RenderedMessage:
        language = language if language in LANGUAGES else "en"
        if variables.get("reason_codes"):  # a proposal's reasons in the reader's language, not the proposer's
            variables = {**variables, "reasons": render_all(variables["reason_codes"], language)}
        try:
            text = self.env.get_template(f"{language}/{template}.txt.j2").render(
                **variables, language=language, timezone=timezone or DEFAULT_TIMEZONE)
        except TemplateNotFound as exc:
            raise TemplateProblem(f"no template {language}/{template}") from exc
        except UndefinedError as exc:
            raise TemplateProblem(f"template {language}/{template}: {exc.message}") from exc
        subject, _, body = text.partition("\n")
        return RenderedMessage(subject=subject.strip(), body=body.strip() + "\n")
