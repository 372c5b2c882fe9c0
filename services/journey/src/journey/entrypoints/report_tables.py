"""The reports as flat tables for CSV: pure functions from a report's JSON to rows and columns.

One row per group (a funnel row per source, a waiting-time summary per step)
or per metric (`metric,value` for reports that are a single set of figures);
nested values become columns (`median_days`, `p90_days`). Values are written as
the JSON of the same endpoint has them (times in ISO 8601 with their UTC offset), an absent value as an empty cell.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator, NamedTuple

from fastapi.encoders import jsonable_encoder

Row = dict[str, Any]

WAITING_NOW_COLUMNS = ("journey_id", "citizen_id", "guide_id", "state", "waiting_for", "waiting_days", "due_since")
GAP_COLUMNS = ("postal_code", "interest", "waiting_citizens")
OVERVIEW_COLUMNS = ("report", "group", "metric", "value")


class Table(NamedTuple):
    columns: tuple[str, ...]
    rows: list[Row]


def records(rows: list[Row], columns: tuple[str, ...] = ()) -> Table:
    """A report that is already a list of flat records; `columns` head an empty one."""
    return Table(tuple(rows[0]) if rows else columns, rows)


def grouped(groups: dict[str, dict], label: str, **fixed: str) -> list[Row]:
    """{"to_match": {"count": 2, ...}} -> [{label: "to_match", "count": 2, ...}], `fixed` columns first."""
    return [{**fixed, label: name, **values} for name, values in groups.items()]


def metrics(figures: dict) -> Table:
    """A single set of figures, one `metric,value` row each."""
    return Table(("metric", "value"), [{"metric": name, "value": value} for name, value in figures.items()])


def funnel_table(funnel: dict) -> Table:
    """A row per referral source and per referring organisation (the total is their sum)."""
    rows = grouped(funnel["by_source"], "key", by="source") + grouped(funnel["by_referrer_org"], "key", by="referrer_org")
    return records(rows, ("by", "key"))


def waiting_times_table(waiting_times: dict) -> Table:
    """A row per step waited for: count, median_days, p90_days."""
    return records(grouped(waiting_times, "waiting"), ("waiting",))


def partners_table(partners: dict) -> Table:
    """A row per organisation: what it contributed."""
    return records(grouped(partners, "org"), ("org",))


def cohorts_table(cohorts: dict) -> Table:
    """A row per cohort and time point: the paired change against the baseline."""
    rows = [{"cohort": cohort, "time_point": point, **figures} for cohort, points in cohorts.items()
            for point, figures in points.items()]
    return records(rows, ("cohort", "time_point"))


def waiting_now_table(waiting: list[Row]) -> Table:
    """A row per citizen waiting beyond a limit."""
    return records(waiting, WAITING_NOW_COLUMNS)


def gaps_table(gaps: list[Row]) -> Table:
    """A row per (postal code, interest) that no activity serves."""
    return records(gaps, GAP_COLUMNS)


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from _leaves(item, (*path, str(number)))
    else:
        yield path, value


def overview_table(everything: dict) -> Table:
    """All reports in one long table: report, group (the nested keys between, list rows
    numbered from 1, joined by "/"), metric, value."""
    rows = [
        {"report": path[0] if len(path) > 1 else "", "group": "/".join(path[1:-1]), "metric": path[-1], "value": value}
        for path, value in _leaves(everything, ())
    ]
    return Table(OVERVIEW_COLUMNS, rows)


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float)) else jsonable_encoder(value)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table.columns))
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in table.rows)
    return out.getvalue()
