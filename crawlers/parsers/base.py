"""What every parser returns. Parsers are pure: (body bytes, url) -> ParseResult; no I/O, no Scrapy.

A parser that does not recognise a page raises ParseError (a changed layout must be
loud); a page that says we are blocked (418/432/captcha/login wall) raises Blocked.
Items it could read only partly are returned in `rejected`, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yuqing.records import HotEntry, Post, Rejected


class ParseError(Exception):
    """The page is not in any format this parser knows (changed layout, truncated JSON...)."""


class Blocked(ParseError):
    """The site refused us: rate limit, captcha, login wall. The source is marked unhealthy."""


@dataclass(frozen=True)
class PageRequest:
    """A follow-up page to fetch, and which parser reads it."""

    url: str
    parser: str  # key in crawlers.parsers.PARSERS, e.g. "weibo.extend"
    meta: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True)
class ParseResult:
    posts: list[Post] = field(default_factory=list)
    requests: list[PageRequest] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    page_kind: str = ""  # e.g. "weibo.search"
    cursor: Mapping[str, Any] = field(default_factory=dict)  # paging info: next page, max_id, is_end...
    entries: list[HotEntry] = field(default_factory=list)  # hot-list pages: the board's entries, in rank order


# A parser: (body, url, *, now, meta) -> ParseResult. `now` makes relative dates ("5分钟前") testable.
Parser = Callable[..., ParseResult]


@dataclass(frozen=True)
class ParseContext:
    url: str
    now: datetime
    meta: Mapping[str, Any] = field(default_factory=dict)
