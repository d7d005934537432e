"""The ``xml`` thinking mode: thinking blocks carried as tagged spans inside text content.

``<thinking signature="…">…</thinking>`` and ``<redacted_thinking data="…"/>``, escaped so
that any text and signature round-trip exactly through :func:`split`.
"""

from __future__ import annotations

import re
from html import unescape

from .events import Block


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    return _escape_text(value).replace('"', "&quot;")


def render_thinking(text: str, signature: str = "") -> str:
    attr = f' signature="{_escape_attr(signature)}"' if signature else ""
    return f"<thinking{attr}>{_escape_text(text)}</thinking>"


def render_redacted(data: str) -> str:
    return f'<redacted_thinking data="{_escape_attr(data)}"/>'


_SPAN = re.compile(
    r'<thinking(?: signature="(?P<sig>[^"]*)")?>(?P<text>[^<]*)</thinking>'
    r'|<redacted_thinking data="(?P<data>[^"]*)"/>'
)


def split(content: str) -> list[Block]:
    """Content with thinking spans -> thinking, redacted_thinking and text blocks, in order."""
    if "<thinking" not in content and "<redacted_thinking" not in content:
        return [Block("text", text=content)] if content else []
    blocks: list[Block] = []
    pos = 0
    for match in _SPAN.finditer(content):
        if match.start() > pos:
            blocks.append(Block("text", text=content[pos : match.start()]))
        if match.group("data") is not None:
            blocks.append(Block("redacted_thinking", data=unescape(match.group("data"))))
        else:
            blocks.append(
                Block("thinking", text=unescape(match.group("text")), signature=unescape(match.group("sig") or ""))
            )
        pos = match.end()
    if pos < len(content):
        blocks.append(Block("text", text=content[pos:]))
    return blocks
