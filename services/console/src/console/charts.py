"""Bar charts as SVG, drawn on the server: readable at a glance, no script,
a title and a text value on every bar for screen readers and print."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    """None: suppressed (a small cell) or unknown; drawn as an empty bar with its reason."""
    shown: str
    """The value as the reader's locale writes it, or why it is not shown."""


def bar_chart(title: str, bars: list[Bar], *, width: int = 560, bar_height: int = 26, label_width: int = 200) -> str:
    """Horizontal bars scaled to the largest value; an accessible `<svg role="img">` with a `<title>`."""
    top = max((b.value for b in bars if b.value is not None), default=0) or 1
    room = width - label_width - 90
    rows = []
    for i, bar in enumerate(bars):
        y = i * (bar_height + 8)
        length = 0 if bar.value is None else max(2, round(room * bar.value / top))
        rows.append(
            f'<g transform="translate(0,{y})">'
            f'<text x="{label_width - 8}" y="{bar_height * 0.68:.0f}" text-anchor="end" class="chart-label">{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="0" width="{length}" height="{bar_height}" class="chart-bar"></rect>'
            f'<text x="{label_width + length + 6}" y="{bar_height * 0.68:.0f}" class="chart-value">{escape(bar.shown)}</text>'
            f"</g>")
    height = max(1, len(bars)) * (bar_height + 8)
    return (f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(title)}</title>{''.join(rows)}</svg>")
