"""Posts and parse results as plain JSON-able dicts (for `yuqing parse` and the expected-output fixtures)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from yuqing.records import HotEntry, Post

from .base import ParseResult


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Post):
        return post_dict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def post_dict(post: Post) -> dict[str, Any]:
    """Every field of a Post; datetimes as ISO 8601 strings."""
    return {f.name: _plain(getattr(post, f.name)) for f in dataclasses.fields(post)}


def entry_dict(entry: HotEntry) -> dict[str, Any]:
    """Every field of a hot-list entry; datetimes as ISO 8601 strings."""
    return {f.name: _plain(getattr(entry, f.name)) for f in dataclasses.fields(entry)}


def result_dict(result: ParseResult) -> dict[str, Any]:
    """A whole parse result: posts, follow-up requests (meta posts by key), rejects and cursor; hot-list
    entries when the page has any."""
    entries = {"entries": [entry_dict(e) for e in result.entries]} if result.entries else {}
    return {
        "page_kind": result.page_kind,
        "posts": [post_dict(p) for p in result.posts],
        "requests": [{"url": r.url, "parser": r.parser,
                      "meta": {k: (v.key if isinstance(v, Post) else _plain(v)) for k, v in r.meta.items()}}
                     for r in result.requests],
        "rejected": [{"stage": r.stage, "reason": r.reason} for r in result.rejected],
        "cursor": _plain(dict(result.cursor)),
        **entries,
    }
