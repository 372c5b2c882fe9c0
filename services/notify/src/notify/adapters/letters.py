"""A message printed as a letter, for a citizen no channel reaches: the same words as the message,
as plain text or as a page to print (HTML, every value escaped)."""

from __future__ import annotations

import html

from notify.adapters.templates import RenderedMessage


def as_text(message: RenderedMessage) -> str:
    return f"{message.subject}\n\n{message.body}"


def as_html(message: RenderedMessage, language: str) -> str:
    paragraphs = [p.strip() for p in message.body.split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(message.subject)}</title>"
            "<style>body{font-family:serif;font-size:14pt;max-width:40em;margin:3em auto}</style></head>\n"
            f"<body><h1>{html.escape(message.subject)}</h1>\n{body}\n</body></html>\n")
