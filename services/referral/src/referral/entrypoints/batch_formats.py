"""Bulk intake formats: a JSON list of cards, or CSV with one card per row.

CSV headers are the card's field paths with dots (`citizen.name`,
`consent.organisations`); organisations are separated by `;`; empty cells are
left out. An optional `external_id` (the sending system's id of the row) makes a
resent batch safe. Values stay strings except where the card needs a number, a yes/no or
a list, so that a wrong value is reported by the card's own validation.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

MAX_ROWS = 1000

EXTERNAL_ID = "external_id"
"""The sending system's own id of a row: sending the same row again creates nothing new."""

CSV_COLUMNS = (
    EXTERNAL_ID, "referrer.source", "referrer.org", "referrer.name", "referrer.phone", "referrer.email", "referrer.relation",
    "citizen.name", "citizen.birth_year", "citizen.postal_code", "citizen.address", "citizen.phone",
    "citizen.email", "citizen.language", "citizen.lives_alone", "reason", "urgency",
    "consent.given_by", "consent.given_at", "consent.organisations", "citizen_id",
)
_YES = {"true", "yes", "ja", "1"}
_NO = {"false", "no", "nej", "0"}


class BatchUnreadable(ValueError):
    """The batch as a whole cannot be read (not JSON, not CSV, too many rows)."""


def _cell(column: str, value: str) -> Any:
    if column == "citizen.birth_year" and value.strip().isdigit():
        return int(value)
    if column == "citizen.lives_alone":
        folded = value.strip().lower()
        return True if folded in _YES else False if folded in _NO else value
    if column == "consent.organisations":
        return [org.strip() for org in value.split(";") if org.strip()]
    return value


def _nest(row: dict[str, str]) -> dict[str, Any]:
    card: dict[str, Any] = {}
    for column, value in row.items():
        if column is None:  # more cells than headers
            card.setdefault("_extra_cells", value)
            continue
        if value is None or value == "":
            continue
        *parents, leaf = column.strip().split(".")
        target = card
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = _cell(column.strip(), value)
    return card


def read_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    unknown = [c for c in reader.fieldnames or [] if c and c.strip() not in CSV_COLUMNS]
    if not reader.fieldnames:
        raise BatchUnreadable("the CSV has no header row")
    if unknown:
        raise BatchUnreadable(f"unknown CSV columns: {', '.join(unknown)}; known: {', '.join(CSV_COLUMNS)}")
    rows = []
    for row in reader:
        rows.append(_nest(row))
        if len(rows) > MAX_ROWS:
            raise BatchUnreadable(f"a batch holds at most {MAX_ROWS} rows")
    return rows


def read_json(raw: bytes) -> list[Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BatchUnreadable(f"not JSON: {exc}") from exc
    if isinstance(data, dict) and "cards" in data:
        data = data["cards"]
    if not isinstance(data, list):
        raise BatchUnreadable("expected a JSON list of cards (or {\"cards\": [...]})")
    if len(data) > MAX_ROWS:
        raise BatchUnreadable(f"a batch holds at most {MAX_ROWS} rows")
    return data
