"""Zhihu: api/v4 search_v3, question/member answer lists (cursor paging), and the 2015 legacy pages.

Ids: answers keep Zhihu's answer id; questions are `q<id>` and articles `p<id>` (as in the zhuanlan
URL /p/<id>) because Zhihu numbers them in separate, overlapping sequences and the store keys
posts by `zhihu:<post_id>`. An answer's parent_id is its question's post_id (`q<id>`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import UNFORESEEN, as_str, looks_blocked, query, reject, unreadable
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import to_text

SOURCE = "zhihu"
BLOCK_CODES = {403, 40352, 40362, 10003, 100, 40301}


def question_key(qid: object) -> str:
    return f"q{as_str(qid)}"


def article_key(aid: object) -> str:
    return f"p{as_str(aid)}"


def _region(value: object) -> str:
    text = as_str(value)
    for prefix in ("IP 属地", "IP属地：", "IP属地:", "IP属地"):
        if text.startswith(prefix):
            return text[len(prefix):].strip()
    return text


def _author(author: Any) -> dict[str, Any]:
    if not isinstance(author, Mapping):
        return {}
    native = as_str(author.get("id"))
    return {"author_id": as_str(author.get("url_token")) or ("" if native in ("0", "-1") else native),
            "author_name": to_text(as_str(author.get("name"))),
            "author_followers": parse_count(author.get("follower_count"))}


def json_objects(body: bytes, url: str, expected: str) -> list[Any]:
    """One JSON document, or several concatenated (the JSON-lines dumps crawlers leave behind)."""
    text = decode(body).strip()
    if not text:
        raise ParseError(f"{url}: empty body, expected {expected}")
    if text[0] == "<":
        if looks_blocked(text[:20000]) or "unhuman" in text[:20000]:
            raise Blocked(f"{url}: zhihu showed a login/captcha page")
        raise ParseError(f"{url}: got HTML instead of {expected} JSON (starts {text[:60]!r})")
    decoder = json.JSONDecoder()
    objects: list[Any] = []
    pos = 0
    while pos < len(text):
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ParseError(f"{url}: malformed or truncated JSON, expected {expected}: {exc}") from None
        except RecursionError:
            raise ParseError(f"{url}: JSON nested too deeply to be a {expected} (refused, not parsed)") from None
        objects.append(obj)
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
    return objects


def check_error(data: Any, url: str) -> str | None:
    """None for a normal body; the reason for an honest error; raises Blocked for captcha/login/rate limits."""
    if not isinstance(data, Mapping) or not isinstance(data.get("error"), Mapping):
        return None
    error = data["error"]
    message, code = as_str(error.get("message")), error.get("code")
    if code in BLOCK_CODES or looks_blocked(message) or error.get("need_login") or "异常" in message:
        raise Blocked(f"{url}: zhihu refused (code={code}, message={message!r})")
    return message or f"error code {code}"


def entity_post(obj: Mapping[str, Any], url: str, now: datetime, *, keyword: str = "",
                title_hint: str = "") -> Post | Rejected:
    """An answer, article or question object of api/v4 -> Post."""
    kind = as_str(obj.get("type"))
    native = as_str(obj.get("id"))
    if kind not in ("answer", "article", "question") or not native:
        return reject(SOURCE, f"zhihu object without id or of unknown type {kind!r}", url, obj, now)
    question = obj.get("question") if isinstance(obj.get("question"), Mapping) else {}
    title = to_text(as_str(obj.get("title") or question.get("title") or question.get("name") or title_hint))
    html = obj.get("content") or obj.get("detail") or obj.get("excerpt") or ""
    text = to_text(as_str(html))
    if kind == "question":
        text = "\n".join(part for part in (title, text) if part)
    if not text:
        return reject(SOURCE, f"zhihu {kind} {native} has no text", url, obj, now)
    try:
        published = parse_date(obj.get("created_time") or obj.get("created"), now)
    except DateError as exc:
        return reject(SOURCE, f"zhihu {kind} {native}: {exc}", url, obj, now)
    qid = as_str(question.get("id"))
    extra: dict[str, Any] = {"native_id": native}
    if not obj.get("content") and obj.get("excerpt"):
        extra["excerpt_only"] = True
    if kind == "answer":
        post_id, parent_id = native, question_key(qid) if qid else ""
        link = f"https://www.zhihu.com/question/{qid}/answer/{native}" if qid else f"https://www.zhihu.com/answer/{native}"
    elif kind == "article":
        post_id, parent_id, link = article_key(native), "", f"https://zhuanlan.zhihu.com/p/{native}"
    else:
        post_id, parent_id, link = question_key(native), "", f"https://www.zhihu.com/question/{native}"
        extra.update(answers=parse_count(obj.get("answer_count")), followers=parse_count(obj.get("follower_count")))
    return Post(
        platform="zhihu", post_id=post_id, text=text, published_at=published, url=link, kind=kind, title=title,
        likes=parse_count(obj.get("voteup_count", obj.get("voting_count"))),
        comments=parse_count(obj.get("comment_count")), parent_id=parent_id, keyword=keyword,
        ip_region=_region(obj.get("ip_info")), extra=extra, **_author(obj.get("author")),
    )


def _collect(objs: Iterator[Mapping[str, Any]], url: str, now: datetime,
             keyword: str = "") -> tuple[list[Post], list[Rejected]]:
    posts: list[Post] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for obj in objs:
        try:
            result = entity_post(obj, url, now, keyword=keyword)
        except UNFORESEEN as exc:
            result = unreadable(SOURCE, url, obj, now, exc)
        if isinstance(result, Rejected):
            rejected.append(result)
        elif result.post_id not in seen:
            seen.add(result.post_id)
            posts.append(result)
    return posts, rejected


def _paging(first: Mapping[str, Any], parser: str, meta: Mapping[str, Any]) -> tuple[dict[str, Any], list[PageRequest]]:
    paging = first.get("paging") if isinstance(first.get("paging"), Mapping) else {}
    is_end = bool(paging.get("is_end", True))
    nxt = as_str(paging.get("next"))
    cursor = {"next": nxt or None, "is_end": is_end, "totals": paging.get("totals")}
    requests = [PageRequest(url=nxt, parser=parser, meta=dict(meta))] if nxt and not is_end else []
    return cursor, requests


def parse_search(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """api/v4/search_v3?q=: data[].object of type answer / article / question (other result types skipped)."""
    meta = meta or {}
    [data, *_] = json_objects(body, url, "zhihu search_v3")
    reason = check_error(data, url)
    if reason is not None:
        return ParseResult(page_kind="zhihu.search", cursor={"is_end": True, "end": True, "reason": reason})
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, zhihu search_v3 has no data list")
    keyword = as_str(meta.get("keyword") or query(url).get("q"))
    objects = []
    for item in items:
        obj = item.get("object") if isinstance(item, Mapping) else None
        if isinstance(obj, Mapping) and obj.get("type") in ("answer", "article", "question"):
            objects.append(obj)
    posts, rejected = _collect(iter(objects), url, now, keyword)
    cursor, requests = _paging(data, "zhihu.search", {"keyword": keyword})
    requests += [PageRequest(url=f"https://www.zhihu.com/api/v4/articles/{p.extra['native_id']}", parser="zhihu.article",
                             meta={"keyword": keyword})
                 for p in posts if p.kind == "article" and p.extra.get("excerpt_only")]  # the full article
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="zhihu.search", cursor=cursor)


def parse_answers(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """questions/{id}/answers or /feeds (cursor paging), members/{token}/answers, single answer or article
    objects (api/v4/answers/{id}, api/v4/articles/{id}), and concatenated JSON lines of any of them."""
    objects = json_objects(body, url, "zhihu answers list")
    reason = check_error(objects[0], url)
    if reason is not None:
        return ParseResult(page_kind="zhihu.answers", cursor={"is_end": True, "end": True, "reason": reason})

    def answers() -> Iterator[Mapping[str, Any]]:
        for obj in objects:
            if isinstance(obj, Mapping) and isinstance(obj.get("data"), list):
                for item in obj["data"]:
                    target = item.get("target") if isinstance(item, Mapping) and "target" in item else item
                    if isinstance(target, Mapping):
                        yield target
            elif isinstance(obj, Mapping) and obj.get("type") in ("answer", "article", "question"):
                yield obj  # a bare object: JSON-lines dumps, api/v4/answers/{id}, api/v4/articles/{id}
            else:
                raise ParseError(f"{url}: changed layout, expected answer objects or {{data: [...]}}")

    posts, rejected = _collect(answers(), url, now)
    first = objects[0] if isinstance(objects[0], Mapping) else {}
    cursor, requests = _paging(first, "zhihu.answers", {})
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="zhihu.answers", cursor=cursor)
