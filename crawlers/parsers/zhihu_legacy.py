"""Zhihu pages of 2015-2016: question/answer HTML (zm-item-answer), the "more answers" fragment
(bare HTML or {"r":0,"msg":[html...]}), and zhuanlan column / column post JSON."""

from __future__ import annotations

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
from .html import element_text, to_text
from .zhihu import SOURCE, article_key, json_objects, question_key


def parse_legacy(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """Any of the legacy page kinds, told apart by their content."""
    text = decode(body).strip()
    if text.startswith(("{", "[")):
        return _json_page(body, url, now)
    if "zm-item-answer" not in text:
        if looks_blocked(text[:20000]):
            raise Blocked(f"{url}: zhihu showed a login/captcha page")
        raise ParseError(f"{url}: changed layout, no zm-item-answer in legacy zhihu HTML")
    require_complete_html(text, url)
    return _answers_html(text, url, now)


def _question_id(doc: Any, url: str) -> str:
    for value in [url, *doc.xpath("//link[@rel='canonical']/@href"), *doc.xpath("//a[contains(@href,'/question/')]/@href")]:
        match = re.search(r"/question/(\d+)", value)
        if match:
            return match.group(1)
    return ""


def _answers_html(text: str, url: str, now: datetime) -> ParseResult:
    doc = lxml.html.fromstring(text)
    qid = _question_id(doc, url)
    title_el = doc.xpath("//div[@id='zh-question-title']//h2 | //h2[contains(@class,'zm-item-title')]")
    title = element_text(title_el[0]) if title_el else ""
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for item in doc.xpath("//div[contains(concat(' ', @class, ' '), ' zm-item-answer ')]"):
        token = item.get("data-atoken") or item.get("data-aid") or ""
        content = item.xpath(".//div[contains(@class,'zm-editable-content')]")
        body = element_text(content[0]) if content else ""
        if not token or not body:
            rejected.append(reject(SOURCE, f"legacy answer {token or '?'} without id or text", url, token, now))
            continue
        try:
            published = parse_date(item.get("data-created"), now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"legacy answer {token}: {exc}", url, token, now))
            continue
        author = item.xpath(".//h3[contains(@class,'author')]//a[starts-with(@href,'/people/') and normalize-space(.)]")
        href = author[0].get("href", "") if author else ""
        count = item.xpath(".//button[contains(@class,'up')]/span[@class='count']")
        comments = item.xpath(".//a[@name='addcomment']")
        posts.append(Post(
            platform="zhihu", post_id=token, text=body, published_at=published, kind="answer", title=title,
            url=f"https://www.zhihu.com/question/{qid}/answer/{token}" if qid else "",
            parent_id=question_key(qid) if qid else "", author_name=author[0].text_content().strip() if author else "匿名用户",
            author_id=href.rsplit("/", 1)[-1], likes=parse_count(count[0].text_content()) if count else 0,
            comments=parse_count(comments[0].text_content()) if comments else 0, extra={"aid": item.get("data-aid", "")},
        ))
    cursor: dict[str, Any] = {"question_id": qid}
    return ParseResult(posts=posts, rejected=rejected, page_kind="zhihu.legacy", cursor=cursor)


def _json_page(body: bytes, url: str, now: datetime) -> ParseResult:
    [data, *_] = json_objects(body, url, "zhuanlan / more-answers JSON")
    if isinstance(data, Mapping) and isinstance(data.get("msg"), list) and "r" in data:  # more-answers AJAX
        html = "".join(part for part in data["msg"] if isinstance(part, str))
        return _answers_html(f"<div>{html}</div>", url, now) if html.strip() else ParseResult(
            page_kind="zhihu.legacy", cursor={"end": True, "reason": "no more answers"})
    if isinstance(data, list):
        posts, rejected = [], []
        for item in data:
            result = _column_post(item, url, now) if isinstance(item, Mapping) else reject(
                SOURCE, "column post is not an object", url, item, now)
            (posts if isinstance(result, Post) else rejected).append(result)
        return ParseResult(posts=posts, rejected=rejected, page_kind="zhihu.legacy",
                           cursor={"end": not data, "count": len(data)})
    if isinstance(data, Mapping) and "slug" in data and "postsCount" in data:  # a column: no posts, points at them
        slug = as_str(data["slug"])
        return ParseResult(page_kind="zhihu.legacy", cursor={"column": slug, "posts": parse_count(data["postsCount"])},
                           requests=[PageRequest(url=f"https://zhuanlan.zhihu.com/api/columns/{slug}/posts?limit=20"
                                                 "&offset=0", parser="zhihu.legacy")])
    if isinstance(data, Mapping) and "content" in data and ("publishedTime" in data or "slug" in data):
        result = _column_post(data, url, now)
        if isinstance(result, Post):
            return ParseResult(posts=[result], page_kind="zhihu.legacy")
        return ParseResult(rejected=[result], page_kind="zhihu.legacy")
    raise ParseError(f"{url}: changed layout, not a zhuanlan column, column post or more-answers JSON")


def _column_post(data: Mapping[str, Any], url: str, now: datetime) -> Post | Rejected:
    slug = as_str(data.get("slug") or data.get("id"))
    text = to_text(as_str(data.get("content")))
    if not slug or not text:
        return reject(SOURCE, "column post without slug or content", url, data, now)
    try:
        published = parse_date(data.get("publishedTime"), now)
    except DateError as exc:
        return reject(SOURCE, f"column post {slug}: {exc}", url, data, now)
    author = data.get("author") if isinstance(data.get("author"), Mapping) else {}
    column = data.get("column") if isinstance(data.get("column"), Mapping) else {}
    return Post(
        platform="zhihu", post_id=article_key(slug), text=text, published_at=published, kind="article",
        title=to_text(as_str(data.get("title"))), url=f"https://zhuanlan.zhihu.com/p/{slug}",
        author_id=as_str(author.get("slug")), author_name=as_str(author.get("name")),
        likes=parse_count(data.get("likesCount")), comments=parse_count(data.get("commentsCount")),
        extra={"native_id": slug, **({"column": as_str(column.get("slug"))} if column.get("slug") else {})},
    )
