"""HTML from feeds reduced to plain text (scripts, styles and tags gone)."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_DROPPED = ("script", "style", "noscript", "iframe", "object", "template", "head")
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr")


@lru_cache(maxsize=2048)
def plain_text(value: str, *, max_length: int = 5000) -> str:
    """``value`` (HTML or text) as readable plain text, at most ``max_length``."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        text = value
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(value, "html.parser")
        # One walk over the tags (a feed of thousands of events is read here).
        for tag in soup.find_all(True):
            if tag.decomposed:
                continue
            if tag.name in _DROPPED:
                tag.decompose()
            elif tag.name in _BLOCKS:
                tag.insert_after("\n")
        text = soup.get_text()
    text = text.replace("\u00a0", " ")
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text[:max_length]


def one_line(value: str, *, max_length: int = 300) -> str:
    return " ".join(plain_text(value, max_length=max_length * 2).split())[:max_length]
