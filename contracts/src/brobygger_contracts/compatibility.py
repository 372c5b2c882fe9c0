"""Is a new JSON Schema of an event type a compatible successor of the old one?

The rule (DESIGN.md section 2): within a major version only optional fields may
be added. Both sides of the bus rely on it: consumers still on the old model
read new producers' messages (unknown fields are dropped by `read_payload`, so
an added optional field is harmless), and consumers on the new model read old
messages still on the topic (the added field takes its default). Any other
change to an existing field (its type, a constraint, its default, whether it
may be null or absent) breaks one of the two, so it is reported.

The one exception is adding values to an enum. That is not strictly safe: an
old consumer's model refuses the new code and dead-letters the event. It is
allowed because codes (barriers, reasons, roles) must be able to grow without
a new major version; the price is an order of rollout: upgrade consumers
before any producer emits the new value, and replay the dead letters if one
was too early.

Descriptions, titles and examples may change freely: they are not on the wire.
Renaming a `$defs` entry is harmless too, since references are followed and
compared by content, not by name.
"""

from __future__ import annotations

from typing import Any

# Documentation only, or identity of the document rather than of the data.
IGNORED = frozenset({"description", "title", "examples", "$comment", "$id", "$schema", "$defs", "readOnly"})
# Handled by name below; everything else is compared for equality.
STRUCTURAL = frozenset({"properties", "required", "enum", "items", "anyOf", "oneOf", "type", "$ref", "x-sealed-part"})
SEALED_PART = "x-sealed-part"
"""The plaintext of an event's sealed box (`sealed.PART_SCHEMA_KEY`): held to the same rule as the event."""


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every reason `new` may not replace `old` within a major version; empty when it may."""
    return _Comparison(old, new).node(old, new, "", set(), "")


class _Comparison:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]):
        self.roots = (old_root, new_root)

    def resolve(self, schema: dict[str, Any], side: int) -> tuple[dict[str, Any], str | None]:
        """Follow a local `$ref`, merging its siblings (pydantic puts descriptions there)."""
        ref = schema.get("$ref")
        if ref is None:
            return schema, None
        target: Any = self.roots[side]
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        return {**target, **siblings}, ref

    def node(
        self, old: dict[str, Any], new: dict[str, Any], path: str, seen: set[tuple[str, str]], defn: str
    ) -> list[str]:
        """Problems of one schema node; `defn` names the `$defs` entry it lies in, for the messages."""
        (old, old_ref), (new, new_ref) = self.resolve(old, 0), self.resolve(new, 1)
        if old_ref and new_ref:
            if (old_ref, new_ref) in seen:  # a recursive definition already being compared
                return []
            seen = seen | {(old_ref, new_ref)}
        if old_ref:
            defn = old_ref.rsplit("/", 1)[-1]
        where = _where(path, defn)

        if any(key in schema for key in ("anyOf", "oneOf") for schema in (old, new)):
            # Alternatives, e.g. `X | None`: X -> X | None is a change too, so both sides are split.
            (old_outer, old_alts), (new_outer, new_alts) = _split(old), _split(new)
            return self.keywords(old_outer, new_outer, where) + self.variants(old_alts, new_alts, path, seen, defn)

        if old.get("type") != new.get("type"):
            return [f"{where}: type changed from {_show(old.get('type'))} to {_show(new.get('type'))}"]

        problems: list[str] = []
        if "enum" in old or "enum" in new:
            if "enum" not in old:
                problems.append(f"{where}: now restricted to the values {_show(new['enum'])}")
            elif "enum" not in new:
                problems.append(f"{where}: no longer restricted to the values {_show(old['enum'])}")
            else:
                removed = [v for v in old["enum"] if v not in new["enum"]]
                if removed:
                    problems.append(f"{where}: enum narrowed, removed {_show(removed)}")
        problems += self.properties(old, new, path, seen, defn)
        if SEALED_PART in old and SEALED_PART in new:
            problems += self.node(old[SEALED_PART], new[SEALED_PART], "sealed", seen, defn)
        elif SEALED_PART in old or SEALED_PART in new:
            problems.append(f"{where}: sealed part added or removed")
        if "items" in old and "items" in new:
            problems += self.node(old["items"], new["items"], f"{path}[]", seen, defn)
        elif "items" in old or "items" in new:
            problems.append(f"{where}: array items schema added or removed")
        return problems + self.keywords(old, new, where)

    def keywords(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        """Every other keyword (constraints, default, format, x- keys) must stay as it was."""
        problems = []
        for key in sorted((old.keys() | new.keys()) - IGNORED - STRUCTURAL):
            if key not in new:
                problems.append(f"{where}: `{key}` ({_show(old[key])}) removed")
            elif key not in old:
                problems.append(f"{where}: `{key}` ({_show(new[key])}) added")
            elif old[key] != new[key]:
                problems.append(f"{where}: `{key}` changed from {_show(old[key])} to {_show(new[key])}")
        return problems

    def properties(self, old: dict[str, Any], new: dict[str, Any], path: str, seen: set, defn: str) -> list[str]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        problems: list[str] = []
        for name, schema in old_props.items():
            field = f"{path}.{name}" if path else name
            if name not in new_props:
                problems.append(f"{_where(field, defn)} removed")
                continue
            if name in new_req and name not in old_req:
                problems.append(f"{_where(field, defn)} was optional and is now required")
            elif name in old_req and name not in new_req:
                problems.append(f"{_where(field, defn)} was required and is now optional")
            problems += self.node(schema, new_props[name], field, seen, defn)
        for name in sorted(new_props.keys() - old_props.keys()):
            if name in new_req:
                problems.append(f"{_where(f'{path}.{name}' if path else name, defn)} added as required")
        return problems

    def variants(self, old: list, new: list, path: str, seen: set, defn: str) -> list[str]:
        """Alternatives are paired by kind (their JSON type), then compared."""
        problems: list[str] = []
        where = _where(path, defn)
        new_kinds = [self.kind(v, 1) for v in new]
        unmatched = list(range(len(new)))
        for alternative in old:
            kind = self.kind(alternative, 0)
            match = next((j for j in unmatched if new_kinds[j] == kind), None)
            if match is None:
                problems.append(f"{where}: no longer accepts {kind}")
                continue
            unmatched.remove(match)
            problems += self.node(alternative, new[match], path, seen, defn)
        return problems + [f"{where}: now also accepts {new_kinds[j]}" for j in unmatched]

    def kind(self, schema: dict[str, Any], side: int) -> str:
        resolved, _ = self.resolve(schema, side)
        return str(resolved.get("type", "any value"))


def _split(schema: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(keywords about the field as a whole, its alternatives); a plain schema is one alternative."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives is not None:
        return {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, alternatives
    outer = {k: v for k, v in schema.items() if k == "default" or k in IGNORED}
    return outer, [{k: v for k, v in schema.items() if k not in outer}]


def _where(path: str, defn: str) -> str:
    if not path:
        return "the event"
    return f"field `{path}`" + (f" ($defs/{defn})" if defn else "")


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, list) else ", ".join(map(repr, value))
