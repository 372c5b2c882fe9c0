"""A CSV file the csv module cannot read at all is the caller's mistake (422), not a crash."""

from __future__ import annotations

import pytest

from matching.entrypoints import csv_import


@pytest.mark.parametrize("text", [
    "name,interests,postal_code\n" + "x" * 200_000 + ",gåtur,6800\n",  # over the csv module's field limit
])
def test_a_file_the_csv_reader_refuses_is_a_bad_file(text):
    with pytest.raises(csv_import.BadFile, match="not a readable CSV file"):
        csv_import.parse(text)


def test_a_carriage_return_inside_a_field_is_judged_as_a_row_not_a_crash():
    parsed = csv_import.parse("name,interests,postal_code\r\nGå\rtur,gåtur,6800\r\n")
    judged = [activity.name for _line, activity in parsed.rows] + [e["line"] for e in parsed.errors]
    assert len(judged) >= 1, parsed


async def test_an_activity_name_with_a_nul_is_a_422_not_a_database_error(kafka_bootstrap, database_url):  # noqa: ANN001
    from matching.testing import activity, matching_instance

    async with matching_instance(kafka_bootstrap, database_url) as (_runtime, api):
        answer = await api.post("/activities", json=activity(name="Gå\x00tur"))
        assert answer.status_code == 422, answer.text
