"""Zhihu rendered list pages (a column's /column/c_<id> page, a search or topic page rendered server-side):
each item is a `ContentItem` with a `data-zop` JSON attribute, schema.org `<meta itemprop>` dates and an
`articleBody`/`RichText` excerpt. Only the excerpt is on the page; the full article is asked for by id."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import lxml.html

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import as_str, looks_blocked, reject, require_complete_html
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import element_text
from .zhihu import SOURCE, article_key, question_key

_KINDS = {"article": "article", "answer": "answer", "question": "question"}


def parse_page(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """Rendered HTML with ContentItem blocks -> posts (excerpts) and requests for the full articles."""
    meta = meta or {}
    text = decode(body).strip()
    if not text.startswith("<"):
        raise ParseError(f"{url}: expected a rendered zhihu HTML page, got {text[:40]!r}")
    if "ContentItem" not in text:
        if looks_blocked(text[:20000]) or "unhuman" in text[:20000]:
            raise Blocked(f"{url}: zhihu showed a login/captcha page")
        raise ParseError(f"{url}: changed layout, no ContentItem blocks in the zhihu page")
    require_complete_html(text, url)
    doc = lxml.html.fromstring(text)
    posts: list[Post] = []
    rejected: list[Rejected] = []
    requests: list[PageRequest] = []
    keyword = as_str(meta.get("keyword"))
    for item in doc.xpath("//div[contains(concat(' ', @class, ' '), ' ContentItem ') and @data-zop]"):
        result = _item(item, url, now, keyword)
        if isinstance(result, Rejected):
            rejected.append(result)
            continue
        posts.append(result)
        if result.kind == "article":
            requests.append(PageRequest(url=f"https://www.zhihu.com/api/v4/articles/{result.extra['native_id']}",
                                        parser="zhihu.article", meta={"keyword": keyword}))
    if not posts and not rejected:
        raise ParseError(f"{url}: changed layout, ContentItem blocks without data-zop")
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="zhihu.page",
                       cursor={"end": True, "reason": "rendered page: one page only"})


def _zop(item: Any) -> dict[str, Any]:
    try:
        value = json.loads(item.get("data-zop") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _meta(item: Any, prop: str) -> str:
    found = item.xpath(f".//meta[@itemprop='{prop}']/@content")
    return as_str(found[0]) if found else ""


def _item(item: Any, url: str, now: datetime, keyword: str) -> Post | Rejected:
    zop = _zop(item)
    kind = _KINDS.get(as_str(zop.get("type")))
    native = as_str(zop.get("itemId"))
    if not kind or not native:
        return reject(SOURCE, f"zhihu page item of unknown type {zop.get('type')!r} or without id", url, zop, now)
    title = as_str(zop.get("title")) or _meta(item, "headline")
    body_el = item.xpath(".//*[@itemprop='articleBody' or @itemprop='text'] | .//span[contains(@class,'RichText')]")
    excerpt = re.sub(r"\s*阅读全文\s*$", "", element_text(body_el[0])) if body_el else ""
    text = "\n".join(part for part in (title, excerpt) if part)
    if not text:
        return reject(SOURCE, f"zhihu {kind} {native} has no text", url, zop, now)
    try:
        published = parse_date(_meta(item, "datePublished") or _meta(item, "dateCreated"), now)
    except DateError as exc:
        return reject(SOURCE, f"zhihu {kind} {native}: {exc}", url, zop, now)
    link = _meta(item, "url")
    link = "https:" + link if link.startswith("//") else link
    post_id = {"article": article_key, "question": question_key}.get(kind, str)(native)
    return Post(platform="zhihu", post_id=post_id, text=text, published_at=published,
                url=link or f"https://zhuanlan.zhihu.com/p/{native}", kind=kind, title=title,
                comments=parse_count(_meta(item, "commentCount")), keyword=keyword,
                author_name=as_str(zop.get("authorName")),
                extra={"native_id": native, "excerpt_only": True})
