"""How a notice's text is shown in the portal: paragraphs with the site's links, and a preview.

Notice bodies are plain text written from templates and user data, so everything is escaped;
only the site's own addresses (a path the site serves, or ``PUBLIC_URL`` followed by one) become
links, and their ``href`` is always the path relative to the site.
"""

from __future__ import annotations

import re

from flask import current_app
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

# A site path: starts after a space, a start of line or opening punctuation, ASCII only, and does
# not end in sentence punctuation ("…/pay." links /pay).
_PATH = r"/(?:[A-Za-z0-9_\-./]*[A-Za-z0-9_/])?"
_PREVIEW_CHARACTERS = 90
_ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s|(?<=[。！？])")


def _is_site_path(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:  # e.g. a missing trailing slash: still one of ours
        return True
    except HTTPException:
        return False
    return True


def _link_pattern() -> re.Pattern[str]:
    public = re.escape(current_app.config["PUBLIC_URL"].rstrip("/"))
    return re.compile(rf"(?:(?<=^)|(?<=[\s(（：:，,]))(?:{public})?({_PATH})", re.ASCII)


def linkify(text: str) -> Markup:
    """``text`` escaped, with the site's own addresses turned into relative links."""
    pattern = _link_pattern()
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        path = match.group(1)
        if not _is_site_path(path):
            continue
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(path))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def paragraphs(text: str) -> list[Markup]:
    """A notice body as paragraphs (blank lines), line breaks kept, links made clickable."""
    return [
        Markup("<br>").join(linkify(line) for line in paragraph.split("\n"))
        for paragraph in text.split("\n\n")
        if paragraph.strip()
    ]


def preview(text: str, limit: int = _PREVIEW_CHARACTERS) -> str:
    """The start of a notice for the list: its first line that is not a greeting, cut cleanly.

    A greeting ("Dear Wang Fang," / "王芳，您好：") says nothing about the notice, so the preview
    starts at the first paragraph after it, then stops at the end of its first sentence. Longer
    text is cut at a word boundary in Latin script (never inside a name) and at a character in
    CJK, with an ellipsis.
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > 1 and lines[0].endswith((",", "：", ":", "，")):
        lines = lines[1:]
    first = lines[0] if lines else ""
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit]
    if sentence[limit].isascii() and sentence[limit].isalnum() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]  # do not leave a fragment of a word or name
    return cut.rstrip(" ,;:，；：、") + _ELLIPSIS
