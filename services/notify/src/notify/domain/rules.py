"""Rules as data: which events someone must hear about, who, with which template
and by which channels. A partnership's rules live in one JSON file; this module
reads its content (already parsed) and says which notifications an event asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Mapping

from notify.domain.model import Channel

ROLES = ("guide", "volunteer", "citizen", "referrer", "facilitator", "coordinator", "operator")


class RuleError(ValueError):
    """The rules file says something that cannot work."""


@dataclass(frozen=True)
class Target:
    """Who one notification goes to, as far as the event alone can tell."""

    role: str
    recipient_id: str | None = None
    """Known from the event itself."""
    guide_of_citizen: str | None = None
    """The citizen whose assigned guide it is (known to notify, perhaps not yet)."""
    everyone_with_role: bool = False
    """Every contact in the directory with `role` (coordinators, operators)."""
    referrers_of_citizen: str | None = None
    """The organisations that referred the citizen, those of them that opted in."""


@dataclass(frozen=True)
class Reminder:
    """Send a while before a moment the event names (a booked visit), not when the event arrives."""

    field: str
    """The event's field with the moment, e.g. `visit_at`."""
    before: timedelta

    def timing(self, facts: Mapping[str, Any]) -> tuple[datetime, datetime]:
        """(send after, too late from): the moment minus the lead time, and the moment itself."""
        value = facts.get(self.field)
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise RuleError(f"{self.field} has no UTC offset: {value!r}")
        moment = moment.astimezone(UTC)
        return moment - self.before, moment


@dataclass(frozen=True)
class PlannedNotification:
    rule_id: str
    template: str
    channels: tuple[Channel, ...]
    target: Target
    send_after: datetime | None = None
    """Not before this moment (a reminder)."""
    expires_at: datetime | None = None
    """Pointless from this moment on (the visit it reminds of has begun)."""
    replaces_earlier: bool = False
    """A newer event of this rule about the same citizen cancels what the older one has not sent."""


@dataclass(frozen=True)
class Rule:
    id: str
    event: str
    role: str
    sources: tuple[str, ...]
    """Where the recipient comes from, tried in order: `event:<field>`, `citizen_guide`,
    `citizen_referrers`, `directory`."""
    template: str
    channels: tuple[Channel, ...]
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Conditions on the event's fields: the field's value must be one of these."""
    reminder: Reminder | None = None

    def applies(self, facts: Mapping[str, Any]) -> bool:
        return all(facts.get(name) in allowed for name, allowed in self.when.items())

    def target(self, facts: Mapping[str, Any]) -> Target | None:
        """The first source that names someone; None when none does."""
        for source in self.sources:
            if source.startswith("event:"):
                value = facts.get(source.removeprefix("event:"))
                if value:
                    return Target(self.role, recipient_id=str(value))
            elif source == "citizen_guide":
                if facts.get("citizen_id"):
                    return Target(self.role, guide_of_citizen=str(facts["citizen_id"]))
            elif source == "citizen_referrers":
                if facts.get("citizen_id"):
                    return Target(self.role, referrers_of_citizen=str(facts["citizen_id"]))
            elif source == "directory":
                return Target(self.role, everyone_with_role=True)
        return None


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]

    @property
    def events(self) -> frozenset[str]:
        return frozenset(r.event for r in self.rules)

    @property
    def templates(self) -> frozenset[str]:
        return frozenset(r.template for r in self.rules)

    def without_role(self, role: str) -> "RuleBook":
        return RuleBook(tuple(r for r in self.rules if r.role != role))

    def plan(self, event: str, facts: Mapping[str, Any]) -> list[PlannedNotification]:
        """The notifications this event asks for, in the file's order."""
        planned = []
        for rule in self.rules:
            if rule.event != event or not rule.applies(facts):
                continue
            target = rule.target(facts)
            if target is None:
                continue
            send_after, expires_at = rule.reminder.timing(facts) if rule.reminder else (None, None)
            planned.append(PlannedNotification(rule.id, rule.template, rule.channels, target, send_after, expires_at,
                                               replaces_earlier=rule.reminder is not None))
        return planned


def _source(text: str, rule_id: str) -> str:
    if text in ("citizen_guide", "citizen_referrers", "directory") or (text.startswith("event:") and len(text) > 6):
        return text
    raise RuleError(f"rule {rule_id}: unknown recipient source {text!r} (use event:<field>, citizen_guide, citizen_referrers or directory)")


def _rule(raw: Mapping[str, Any], known_events: frozenset[str] | None) -> Rule:
    rule_id = str(raw.get("id") or "")
    if not rule_id:
        raise RuleError("every rule needs an id")
    missing = [k for k in ("event", "recipient", "template") if k not in raw]
    if missing:
        raise RuleError(f"rule {rule_id}: missing {', '.join(missing)}")
    if known_events is not None and raw["event"] not in known_events:
        raise RuleError(f"rule {rule_id}: unknown event {raw['event']!r}")
    recipient = raw["recipient"]
    role = recipient.get("role")
    if role not in ROLES:
        raise RuleError(f"rule {rule_id}: unknown role {role!r}")
    sources = recipient.get("from", "directory")
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    try:
        channels = tuple(Channel(c) for c in raw.get("channels", ["email"]))
    except ValueError as exc:
        raise RuleError(f"rule {rule_id}: {exc}") from exc
    if not channels:
        raise RuleError(f"rule {rule_id}: needs at least one channel")
    when = {
        name: tuple(value) if isinstance(value, list) else (value,) for name, value in raw.get("when", {}).items()
    }
    return Rule(
        id=rule_id, event=raw["event"], role=role, sources=tuple(_source(s, rule_id) for s in sources),
        template=str(raw["template"]), channels=channels, when=when, reminder=_reminder(raw.get("remind_before"), rule_id),
    )


def _reminder(raw: Any, rule_id: str) -> Reminder | None:
    """`"remind_before": {"field": "visit_at", "hours": 24}` (or "days")."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("field"), str):
        raise RuleError(f"rule {rule_id}: remind_before needs a field naming the moment, e.g. {{\"field\": \"visit_at\", \"hours\": 24}}")
    hours = float(raw.get("hours", 0)) + 24 * float(raw.get("days", 0))
    if hours <= 0:
        raise RuleError(f"rule {rule_id}: remind_before needs a positive number of hours or days")
    return Reminder(raw["field"], timedelta(hours=hours))


def parse_rules(document: Mapping[str, Any], known_events: frozenset[str] | None = None) -> RuleBook:
    """Build the rule book from a parsed rules file; refuses anything it cannot follow."""
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleError("a rules file needs a non-empty list `rules`")
    rules = tuple(_rule(r, known_events) for r in raw_rules)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise RuleError("rule ids must be unique")
    return RuleBook(rules)
