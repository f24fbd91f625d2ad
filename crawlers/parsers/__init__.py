"""The parser registry: spiders and `yuqing parse` look parsers up by key (e.g. "weibo.search")."""

from __future__ import annotations

from .base import Blocked, PageRequest, ParseError, Parser, ParseResult
from .weibo_mobile import parse_comments_show, parse_extend, parse_hotflow, parse_search, parse_show

PARSERS: dict[str, Parser] = {
    "weibo.search": parse_search,
    "weibo.extend": parse_extend,
    "weibo.show": parse_show,
    "weibo.hotflow": parse_hotflow,
    "weibo.comments_show": parse_comments_show,
}

__all__ = ["PARSERS", "Blocked", "PageRequest", "ParseError", "ParseResult", "Parser"]
