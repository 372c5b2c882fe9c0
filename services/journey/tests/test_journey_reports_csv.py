"""Every report answers `?format=csv` with a flat table that says what its JSON says."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from brobygger_stack.testing import database_factory
from journey.entrypoints.report_tables import (
    Table, funnel_table, gaps_table, metrics, overview_table, to_csv, waiting_now_table, waiting_times_table,
)
from journey_testkit import FakeClock, journey_starter
from report_data_set import REFERRED, play_report_data_set

REPORTS = ("", "/funnel", "/waiting-times", "/waiting-now", "/accompaniment", "/groups", "/loneliness", "/gaps")


def parse(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def cell(value: Any) -> str:
    """A JSON value as the CSV writes it."""
    return "" if value is None else str(value)


# --- the pure flattening -------------------------------------------------------------------------


def test_waiting_times_become_a_row_per_step():
    table = waiting_times_table({
        "to_first_contact": {"count": 5, "median_days": 3.0, "p90_days": 7.0},
        "to_match": {"count": 0, "median_days": None, "p90_days": None},
    })
    assert table == Table(("waiting", "count", "median_days", "p90_days"), [
        {"waiting": "to_first_contact", "count": 5, "median_days": 3.0, "p90_days": 7.0},
        {"waiting": "to_match", "count": 0, "median_days": None, "p90_days": None},
    ])
    assert to_csv(table).splitlines() == ["waiting,count,median_days,p90_days", "to_first_contact,5,3.0,7.0", "to_match,0,,"]


def test_a_set_of_figures_becomes_a_row_per_metric():
    assert metrics({"formed": 1, "self_running": 0}) == Table(
        ("metric", "value"), [{"metric": "formed", "value": 1}, {"metric": "self_running", "value": 0}])
    assert to_csv(metrics({"mean_change": -1.5, "pairs": 2})).splitlines() == ["metric,value", "mean_change,-1.5", "pairs,2"]


def test_funnel_rows_by_source_then_by_referrer_org():
    row = {"referred": 2, "open": 1}
    table = funnel_table({"total": {"referred": 4, "open": 2}, "by_source": {"gp": row}, "by_referrer_org": {"none": row, "x": row}})
    assert table.columns == ("by", "key", "referred", "open")
    assert [(r["by"], r["key"]) for r in table.rows] == [("source", "gp"), ("referrer_org", "none"), ("referrer_org", "x")]
    assert funnel_table({"total": {}, "by_source": {}, "by_referrer_org": {}}) == Table(("by", "key"), [])


def test_lists_of_records_keep_their_columns_and_an_empty_one_its_header():
    due = datetime(2026, 3, 5, 9, tzinfo=UTC)
    waiting = [{"journey_id": "j", "citizen_id": uuid.UUID(int=1), "guide_id": None, "state": "referred",
                "waiting_for": "first_contact", "waiting_days": 44.0, "due_since": due}]
    assert to_csv(waiting_now_table(waiting)).splitlines() == [
        "journey_id,citizen_id,guide_id,state,waiting_for,waiting_days,due_since",
        "j,00000000-0000-0000-0000-000000000001,,referred,first_contact,44.0,2026-03-05T09:00:00+00:00",
    ]
    assert to_csv(waiting_now_table([])).splitlines() == ["journey_id,citizen_id,guide_id,state,waiting_for,waiting_days,due_since"]
    assert to_csv(gaps_table([])).splitlines() == ["postal_code,interest,waiting_citizens"]


def test_the_overview_is_one_long_table():
    table = overview_table({
        "generated_at": datetime(2026, 4, 15, 9, tzinfo=UTC),
        "funnel": {"by_source": {"gp": {"referred": 2}}},
        "gaps": [{"interest": "cards"}, {"interest": "chess"}],
        "groups": {"formed": 1},
    })
    assert table.columns == ("report", "group", "metric", "value")
    assert [tuple(r.values()) for r in table.rows] == [
        ("", "", "generated_at", datetime(2026, 4, 15, 9, tzinfo=UTC)),
        ("funnel", "by_source/gp", "referred", 2),
        ("gaps", "1", "interest", "cards"),
        ("gaps", "2", "interest", "chess"),
        ("groups", "", "formed", 1),
    ]
    assert to_csv(table).splitlines()[1] == ",,generated_at,2026-04-15T09:00:00+00:00"


# --- over HTTP, on the data set of test_journey_reports.py ---------------------------------------


@pytest_asyncio.fixture(scope="module")
async def served(kafka_bootstrap, postgres_admin_dsn, tmp_path_factory) -> dict[str, tuple[httpx.Response, httpx.Response]]:  # noqa: ANN001
    """Each report's answer as JSON (no parameter) and as CSV, after playing the data set once."""
    async with database_factory(postgres_admin_dsn, tmp_path_factory.mktemp("reports_csv")) as make_database:
        async with journey_starter(kafka_bootstrap, make_database)(FakeClock(REFERRED)) as svc:
            await play_report_data_set(svc)
            answers = {}
            for report in REPORTS:
                answers[report] = (await svc.client.get(f"/reports{report}"),
                                   await svc.client.get(f"/reports{report}", params={"format": "csv"}))
            answers["/gaps?min_citizens=1"] = (await svc.client.get("/reports/gaps", params={"min_citizens": 1}),
                                               await svc.client.get("/reports/gaps", params={"min_citizens": 1, "format": "csv"}))
            steering = svc.auth("steering")
            answers["steering /funnel"] = (await svc.client.get("/reports/funnel", auth=steering),
                                           await svc.client.get("/reports/funnel", params={"format": "csv"}, auth=steering))
            answers["steering /gaps?min_citizens=1"] = (
                await svc.client.get("/reports/gaps", params={"min_citizens": 1}, auth=steering),
                await svc.client.get("/reports/gaps", params={"min_citizens": 1, "format": "csv"}, auth=steering))
            answers["bad format"] = (await svc.client.get("/reports/groups", params={"format": "xlsx"}),) * 2
    return answers


def answered(served: dict, report: str) -> tuple[Any, list[str], list[dict[str, str]]]:
    as_json, as_csv = served[report]
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    return (as_json.json(), *parse(as_csv.text))


@pytest.mark.parametrize(("report", "metric"), [
    ("/accompaniment", "hours_drawn"), ("/groups", "self_running"), ("/loneliness", "mean_change"),
])
def test_figures_reports_as_metric_rows(served, report, metric):
    data, header, rows = answered(served, report)
    assert header == ["metric", "value"]
    assert [r["metric"] for r in rows] == list(data)
    assert next(r["value"] for r in rows if r["metric"] == metric) == cell(data[metric])


def test_waiting_times_csv(served):
    data, header, rows = answered(served, "/waiting-times")
    assert header == ["waiting", "count", "median_days", "p90_days"]
    assert [r["waiting"] for r in rows] == ["to_first_contact", "to_match", "to_first_visit"]
    to_match = next(r for r in rows if r["waiting"] == "to_match")
    assert (to_match["median_days"], to_match["p90_days"]) == (cell(data["to_match"]["median_days"]), cell(data["to_match"]["p90_days"]))


def test_funnel_csv(served):
    data, header, rows = answered(served, "/funnel")
    assert header == ["by", "key", *data["total"]]
    gp = next(r for r in rows if r["by"] == "source" and r["key"] == "gp")
    assert gp["exited_escalated"] == cell(data["by_source"]["gp"]["exited_escalated"])
    assert len(rows) == len(data["by_source"]) + len(data["by_referrer_org"])


def test_waiting_now_csv(served):
    data, header, rows = answered(served, "/waiting-now")
    assert header == list(data[0])
    assert [(r["citizen_id"], r["waiting_days"]) for r in rows] == [(w["citizen_id"], cell(w["waiting_days"])) for w in data]
    assert rows[0]["due_since"] == data[0]["due_since"]  # E: first contact due since 5 March


def test_gaps_csv():
    gaps = [{"postal_code": "6800", "interest": "cards", "waiting_citizens": 6}]
    assert to_csv(gaps_table(gaps)).splitlines() == ["postal_code,interest,waiting_citizens", "6800,cards,6"]


@pytest.mark.parametrize("report", ["/gaps", "/gaps?min_citizens=1", "steering /gaps?min_citizens=1"])
def test_gaps_never_show_a_cell_below_five_citizens(served, report):
    """C and D share cards in 6800 unserved: a cell of 2, shown to no one, whatever min_citizens asks (issue 12 case 5)."""
    data, header, rows = answered(served, report)
    assert (data, header, rows) == ([], ["postal_code", "interest", "waiting_citizens"], [])


def test_steering_sees_small_cells_suppressed(served):
    mine = served["/funnel"][0].json()
    data, header, rows = answered(served, "steering /funnel")
    assert mine["by_source"]["gp"]["referred"] < 5 and data["by_source"]["gp"]["referred"] is None
    assert mine["total"]["referred"] >= 5 and data["total"]["referred"] == mine["total"]["referred"]
    gp = next(r for r in rows if r["by"] == "source" and r["key"] == "gp")
    assert gp["referred"] == ""


def test_overview_csv(served):
    data, header, rows = answered(served, "")
    assert header == ["report", "group", "metric", "value"]

    def value(report: str, group: str, metric: str) -> str:
        [found] = [r["value"] for r in rows if (r["report"], r["group"], r["metric"]) == (report, group, metric)]
        return found

    assert value("waiting_times", "to_first_visit", "p90_days") == cell(data["waiting_times"]["to_first_visit"]["p90_days"])
    assert value("funnel", "by_source/home_care", "referred") == cell(data["funnel"]["by_source"]["home_care"]["referred"])
    assert value("waiting_beyond_limits", "2", "citizen_id") == data["waiting_beyond_limits"][1]["citizen_id"]
    assert value("loneliness", "", "baseline_only") == cell(data["loneliness"]["baseline_only"])
    assert datetime.fromisoformat(value("", "", "generated_at")) == datetime.fromisoformat(data["generated_at"])


def test_an_unknown_format_is_refused(served):
    assert served["bad format"][0].status_code == 422
