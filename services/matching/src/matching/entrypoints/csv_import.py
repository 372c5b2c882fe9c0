"""Activities from a municipality's spreadsheet (CSV), with an error per bad row.

Columns (header names, any order): name, interests, postal_code are required;
org, activity_id, languages, address, latitude, longitude, schedule, seats,
cost_dkk, reduced_cost_dkk, step_free, accompaniment_welcome, practice_community,
hearing_loop, interpreter_available are optional.
Lists (interests, languages, schedule) are separated by `|` or by whichever of
`;` and `,` is not the column separator. A schedule entry is `tue morning`,
also in Danish or Swedish (`tirsdag formiddag`, `tisdag förmiddag`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from matching.entrypoints.schemas import ActivityIn

REQUIRED = ("name", "interests", "postal_code")
LISTS = ("interests", "languages", "schedule")
FLAGS = ("step_free", "accompaniment_welcome", "practice_community", "hearing_loop", "interpreter_available")
TRUE = {"1", "true", "yes", "y", "ja", "j", "x"}
FALSE = {"0", "false", "no", "n", "nej"}

DAY_WORDS = {
    "mon": ("mon", "monday", "man", "mandag", "mån", "måndag"),
    "tue": ("tue", "tuesday", "tir", "tirsdag", "tis", "tisdag"),
    "wed": ("wed", "wednesday", "ons", "onsdag"),
    "thu": ("thu", "thursday", "tor", "torsdag"),
    "fri": ("fri", "friday", "fre", "fredag"),
    "sat": ("sat", "saturday", "lør", "lørdag", "lör", "lördag"),
    "sun": ("sun", "sunday", "søn", "søndag", "sön", "söndag"),
}
PART_WORDS = {
    "morning": ("morning", "formiddag", "morgen", "förmiddag", "morgon", "fm"),
    "afternoon": ("afternoon", "eftermiddag", "em"),
    "evening": ("evening", "aften", "kväll", "kvall"),
}
_DAY = {w: code for code, words in DAY_WORDS.items() for w in words}
_PART = {w: code for code, words in PART_WORDS.items() for w in words}


class BadFile(ValueError):
    pass


@dataclass
class Parsed:
    rows: list[tuple[int, ActivityIn]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse(text: str) -> Parsed:
    """The file's activities and its bad rows; BadFile when it cannot be read as CSV at all."""
    try:
        return _parse(text)
    except csv.Error as exc:  # e.g. a stray carriage return or NUL inside an unquoted field
        raise BadFile(f"not a readable CSV file: {exc}") from None


def _parse(text: str) -> Parsed:
    if not text.strip():
        raise BadFile("the file is empty")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadFile(f"missing column(s): {', '.join(missing)}")
    unknown = [h for h in header if h not in ActivityIn.model_fields]
    if unknown:
        raise BadFile(f"unknown column(s): {', '.join(unknown)}")
    parsed = Parsed()
    for raw in reader:
        line = reader.line_num
        cells = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        row, errors = _row(cells, delimiter)
        try:
            activity = ActivityIn.model_validate(row)
        except ValidationError as exc:
            errors += [{"field": str(err["loc"][0]) if err["loc"] else "row", "error": err["msg"]} for err in exc.errors()]
        if errors:
            parsed.errors += [{"line": line, **e} for e in errors]
        else:
            parsed.rows.append((line, activity))
    return parsed


@dataclass
class _CellError(Exception):
    field: str
    message: str


def _split(cell: str, delimiter: str) -> list[str]:
    separators = "|" + "".join(s for s in ";," if s != delimiter)
    return [part.strip() for part in re.split(f"[{re.escape(separators)}]", cell) if part.strip()]


def _slot(entry: str) -> dict[str, str]:
    words = entry.casefold().split()
    if len(words) != 2 or words[0] not in _DAY or words[1] not in _PART:
        raise _CellError("schedule", f"cannot read {entry!r}: write a day and a part, like 'tue morning'")
    return {"day": _DAY[words[0]], "part": _PART[words[1]]}


def _row(cells: dict[str, str], delimiter: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The row as the API's body, and the cells that could not be read at all."""
    row: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, value in cells.items():
        try:
            _cell(row, name, value, delimiter)
        except _CellError as exc:
            errors.append({"field": exc.field, "error": exc.message})
    return row, errors


def _cell(row: dict[str, Any], name: str, value: str, delimiter: str) -> None:
    if value == "":
        return
    if name in LISTS:
        items = _split(value, delimiter)
        row[name] = [_slot(i) for i in items] if name == "schedule" else items
    elif name in FLAGS:
        if value.casefold() not in TRUE | FALSE:
            raise _CellError(name, f"{value!r} is not yes or no")
        row[name] = value.casefold() in TRUE
    elif name in ("latitude", "longitude", "cost_dkk", "reduced_cost_dkk"):
        row[name] = value.replace(",", ".") if delimiter == ";" else value  # decimal comma
    else:
        row[name] = value
