"""Where a partnership's rules come from: NOTIFY_RULES_FILE, else a bundled
`rules/<partnership>.json`, else the bundled `rules/default.json`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from brobygger_contracts import EVENTS
from brobygger_contracts.events.notify import NotificationFailed
from brobygger_contracts.sealed import SEALED_FIELD, SealedEvent
from notify.adapters.templates import TemplateLibrary
from notify.domain.rules import RuleBook, RuleError, parse_rules



def _facts(cls: type) -> set[str]:
    """What a rule may name of an event: its clear fields and its opened sealed part's (as `facts_of` gives them)."""
    sealed = set(cls.sealed_part.model_fields) if issubclass(cls, SealedEvent) else set()
    return (set(cls.model_fields) - {SEALED_FIELD}) | sealed


EVENT_FIELDS = {cls.__name__: _facts(cls) for cls in EVENTS}
EVENT_FIELDS[NotificationFailed.__name__].add("failed_recipient_id")  # added by the subscriber for templates
KNOWN_EVENTS = frozenset(EVENT_FIELDS)


def _unknown_fields(book: RuleBook) -> list[str]:
    """`event:<field>` sources and `when` conditions that name no field of their event."""
    problems = []
    for rule in book.rules:
        named = [s.removeprefix("event:") for s in rule.sources if s.startswith("event:")] + list(rule.when)
        named += [rule.reminder.field] if rule.reminder else []
        problems += [f"rule {rule.id}: {rule.event} has no field {f!r}" for f in named if f not in EVENT_FIELDS[rule.event]]
    return problems


def load_rule_book(path: str | None, partnership_id: str, templates: TemplateLibrary) -> RuleBook:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        folder = resources.files("notify").joinpath("rules")
        own = folder.joinpath(f"{partnership_id}.json")
        text = (own if own.is_file() else folder.joinpath("default.json")).read_text(encoding="utf-8")
    book = parse_rules(json.loads(text), KNOWN_EVENTS)
    missing = templates.missing(book.templates)
    if missing:
        raise RuleError(f"the rules name templates that do not exist: {', '.join(missing)}")
    problems = _unknown_fields(book)
    if problems:
        raise RuleError("; ".join(problems))
    return book
