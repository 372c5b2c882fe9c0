"""Paging of every list endpoint: `?limit=` (default 50, at most 500) and
`?offset=`, bounded so that no number a client sends reaches the database
unchecked (an offset past 64 bits fails deep in the driver otherwise)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"how many at most (default {DEFAULT_LIMIT})")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="how many to skip: the previous page's count so far")]
