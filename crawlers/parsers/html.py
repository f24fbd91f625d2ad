"""HTML fragments -> plain text, as a reader sees them.

Emoticons `<img alt="[哈哈]">` become `[哈哈]`, links become their text (so `@mention` and
`#topic#` stay), `<br>` and block ends become newlines, entities are unescaped and
script/style content is dropped. Nothing is ever executed: it is only read as text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "section"}
_DROP = {"script", "style", "noscript", "template", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.drop_depth = 0
        self.full_text_link = False
        self._anchor_start: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.drop_depth += 1
            return
        if self.drop_depth:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt.startswith("[") and alt.endswith("]"):  # emoticon; photos have alt="图片" and are skipped
                self.parts.append(alt)
        elif tag == "a":
            self._anchor_start = len(self.parts)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _DROP:
            self.drop_depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.drop_depth = max(0, self.drop_depth - 1)
            return
        if self.drop_depth:
            return
        if tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "a" and self._anchor_start is not None:
            if "".join(self.parts[self._anchor_start:]).strip() == "全文":
                self.full_text_link = True
                del self.parts[self._anchor_start:]
            self._anchor_start = None

    def handle_data(self, data: str) -> None:
        if not self.drop_depth:
            self.parts.append(data)


def tidy(text: str) -> str:
    """Collapse runs of spaces inside lines and blank lines, strip the ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\u3000", " ")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def html_text(fragment: str) -> tuple[str, bool]:
    """(text, had_full_text_link): the readable text of an HTML fragment and whether it ended in a 全文 link."""
    collector = _TextCollector()
    collector.feed(fragment or "")
    collector.close()
    text = tidy("".join(collector.parts))
    if collector.full_text_link:
        text = re.sub(r"\s*(?:\.\.\.|…)\s*$", "", text)
    return text, collector.full_text_link


def to_text(fragment: str) -> str:
    """The readable text of an HTML fragment (see module docstring)."""
    return html_text(fragment)[0]


def element_text(element: object) -> str:
    """Readable text of an lxml element (emoticon alts kept), via the same rules as `to_text`."""
    from lxml import etree

    return to_text(etree.tostring(element, encoding="unicode", with_tail=False))  # type: ignore[arg-type]
