"""Where a partnership's rules come from: NOTIFY_RULES_FILE, else a bundled
`rules/<partnership>.json`, else the bundled `rules/default.json`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from brobygger_contracts import EVENTS
from notify.adapters.templates import TemplateLibrary
from notify.domain.rules import RuleBook, RuleError, parse_rules

KNOWN_EVENTS = frozenset(cls.__name__ for cls in EVENTS)


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
    return book
