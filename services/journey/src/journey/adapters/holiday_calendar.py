"""Public holidays for the working-day timers, from the `holidays` library."""

from __future__ import annotations

from datetime import date
from typing import Callable

import holidays

from journey.domain.timers import no_holidays


def supported(country: str) -> bool:
    """Whether `country` (ISO 3166-1 alpha-2, e.g. DK, SE) has a holiday calendar; "" means none."""
    return not country or country in holidays.list_supported_countries()


def public_holidays(country: str) -> Callable[[date], bool]:
    """Whether a day is a public holiday in `country` (the library's public category:
    in Denmark not Christmas Eve or Constitution Day); "" gives weekends only."""
    if not country:
        return no_holidays
    calendar = holidays.country_holidays(country)  # years are filled in as they are asked for
    return calendar.__contains__
