"""Free text people type in: what the database and the screen can hold safely.

Control characters (NUL above all: PostgreSQL cannot store it) and lone UTF-16
surrogates (they cannot be encoded as UTF-8) are refused at the edge, with the
field named, instead of failing deep in the database.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints


def _is_surrogate(ch: str) -> bool:
    return 0xD800 <= ord(ch) <= 0xDFFF


def _single_line(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 or _is_surrogate(ch) for ch in value):
        raise ValueError("must be a single line without control characters")
    return value


def _paragraphs(value: str) -> str:
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 or _is_surrogate(ch) for ch in value):
        raise ValueError("must not contain control characters")
    return value


def line(max_length: int, **constraints: Any) -> Any:
    """A single line of 1..max_length characters, surrounding spaces stripped."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length, **constraints),
        AfterValidator(_single_line),
    ]


def paragraphs(max_length: int, min_length: int = 0) -> Any:
    """Free text over several lines, surrounding spaces stripped."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_paragraphs),
    ]
