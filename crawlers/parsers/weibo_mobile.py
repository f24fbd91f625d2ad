"""m.weibo.cn JSON APIs: getIndex search and timeline containers, statuses/extend, statuses/show, comments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import PageRequest, ParseError, ParseResult
from .common import (
    UNFORESEEN,
    as_list,
    as_map,
    as_str,
    int_param,
    load_json,
    query,
    reject,
    require,
    unreadable,
    with_query,
)
from .counts import parse_count
from .dates import DateError, parse_date
from .html import to_text
from .weibo_mblog import check_envelope, mblog_post, region, user_fields, with_full_text

SOURCE = "weibo"


def _ended(kind: str, reason: str, **cursor: Any) -> ParseResult:
    return ParseResult(page_kind=kind, cursor={"end": True, "reason": reason, **cursor})


def _search_keyword(url: str, meta: Mapping[str, Any]) -> str:
    if meta.get("keyword"):
        return str(meta["keyword"])
    containerid = query(url).get("containerid", "")
    for part in containerid.split("&"):
        if part.startswith("q="):
            return part[2:]
    return ""


def parse_search(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """getIndex containers: search (type=1 综合, type=61 实时) and user timelines (containerid=107603…)."""
    meta = meta or {}
    data = load_json(body, url, "weibo getIndex container")
    reason = check_envelope(data, url)
    page = int_param(url, "page", int(meta.get("page") or 1))
    if reason is not None:
        return _ended("weibo.search", reason, page=page, next_page=None)
    if isinstance(data.get("data"), Mapping) and "cards" not in data["data"] and "userInfo" in data["data"]:
        return _profile(data["data"], url)
    cards = require(data, "data.cards", url, "weibo getIndex container")
    if not isinstance(cards, list):
        raise ParseError(f"{url}: changed layout, data.cards is {type(cards).__name__}, expected a list")
    keyword = _search_keyword(url, meta)
    posts: list[Post] = []
    requests: list[PageRequest] = []
    rejected: list[Rejected] = []
    for card in _mblog_cards(cards):
        mblog = card.get("mblog")
        if not isinstance(mblog, Mapping):
            rejected.append(reject(SOURCE, "card_type 9 without mblog", url, card, now))
            continue
        p, r, j = mblog_post(mblog, url, now, source=SOURCE, keyword=keyword)
        posts += p
        requests += r
        rejected += j
    info = as_map(data["data"].get("cardlistInfo"))
    cursor: dict[str, Any] = {"page": page, "next_page": None}
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    next_page = info.get("page")
    since_id = info.get("since_id")
    if since_id and posts:  # user timeline containers page by since_id
        cursor["since_id"] = since_id
        cursor["next_page"] = page + 1
        requests.append(PageRequest(url=with_query(url, since_id=since_id), parser="weibo.search",
                                    meta={"keyword": keyword, "page": page + 1}))
    elif isinstance(next_page, int | str) and str(next_page).isdigit() and int(next_page) > page and cards:
        cursor["next_page"] = int(next_page)
        requests.append(PageRequest(url=with_query(url, page=int(next_page)), parser="weibo.search",
                                    meta={"keyword": keyword, "page": int(next_page)}))
    if not cards:
        cursor.update(end=True, reason="no cards")
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.search", cursor=cursor)


def _profile(inner: Mapping[str, Any], url: str) -> ParseResult:
    """A getIndex?type=uid profile holds no posts; it points at the user's timeline container."""
    user = as_map(inner.get("userInfo"))
    tabs = as_list(as_map(inner.get("tabsInfo")).get("tabs"))
    requests = [
        PageRequest(url=with_query(url, containerid=tab["containerid"]), parser="weibo.search")
        for tab in tabs if isinstance(tab, Mapping) and tab.get("tabKey") == "weibo" and tab.get("containerid")
    ]
    return ParseResult(requests=requests, page_kind="weibo.profile",
                       cursor={"end": True, "reason": "profile page holds no posts", "user_id": as_str(user.get("id"))})


def _mblog_cards(cards: list[Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for card in cards:
        if not isinstance(card, Mapping):
            continue
        if card.get("card_type") == 9 or (card.get("mblog") and card.get("card_type") is None):
            out.append(card)
        elif card.get("card_type") == 11 or isinstance(card.get("card_group"), list):
            out += _mblog_cards(as_list(card.get("card_group")))
    return out


def parse_extend(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """statuses/extend: the full long text. With meta["post"] returns that post with the full text;
    without it (e.g. `yuqing parse`) a post dated meta["published_at"] or `now`, marked date_estimated."""
    meta = meta or {}
    data = load_json(body, url, "weibo statuses/extend")
    reason = check_envelope(data, url)
    if reason is not None:
        return _ended("weibo.extend", reason)
    inner = require(data, "data", url, "weibo statuses/extend")
    html = require(data, "data.longTextContent", url, "weibo statuses/extend")
    text = to_text(str(html))
    if not text:
        return ParseResult(page_kind="weibo.extend",
                           rejected=[reject(SOURCE, "statuses/extend without text", url, data, now)])
    base = meta.get("post")
    if isinstance(base, Post):
        return ParseResult(posts=[with_full_text(base, text, inner)], page_kind="weibo.extend")
    post_id = as_str(meta.get("post_id") or query(url).get("id"))
    if not post_id:
        raise ParseError(f"{url}: statuses/extend needs the post id (?id= in the url or meta post)")
    published = meta.get("published_at")
    post = Post(platform="weibo", post_id=post_id, text=text,
                published_at=published if isinstance(published, datetime) else now,
                url=f"https://m.weibo.cn/detail/{post_id}",
                extra={} if isinstance(published, datetime) else {"date_estimated": True})
    return ParseResult(posts=[with_full_text(post, text, inner)], page_kind="weibo.extend")


def parse_show(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """statuses/show: one mblog; a repost comes back as kind "repost" with parent_id = the root post."""
    data = load_json(body, url, "weibo statuses/show")
    reason = check_envelope(data, url)
    if reason is not None:
        return _ended("weibo.show", reason)
    mblog = require(data, "data", url, "weibo statuses/show")
    if not isinstance(mblog, Mapping) or not (mblog.get("id") or mblog.get("mid")):
        raise ParseError(f"{url}: changed layout, data is not an mblog with an id")
    posts, requests, rejected = mblog_post(mblog, url, now, source=SOURCE, keyword=str((meta or {}).get("keyword", "")))
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.show")


def _comment_post(item: Mapping[str, Any], parent_id: str, url: str, now: datetime) -> Post | Rejected:
    comment_id = as_str(item.get("idstr") or item.get("id"))
    if not comment_id:
        return reject(SOURCE, "comment without id", url, item, now)
    text = to_text(str(item.get("text") or ""))
    if not text:
        return reject(SOURCE, f"comment {comment_id} has no text", url, item, now)
    try:
        published = parse_date(item.get("created_at"), now)
    except DateError as exc:
        return reject(SOURCE, f"comment {comment_id}: {exc}", url, item, now)
    status = item.get("status")
    if not parent_id and isinstance(status, Mapping):
        parent_id = as_str(status.get("idstr") or status.get("id"))
    return Post(
        platform="weibo", post_id=comment_id, text=text, published_at=published,
        url=f"https://m.weibo.cn/detail/{parent_id}#comment-{comment_id}" if parent_id else "",
        kind="comment", parent_id=parent_id, likes=parse_count(item.get("like_count", item.get("like_counts"))),
        comments=parse_count(item.get("total_number")), ip_region=region(item.get("source")),
        extra={"reply_id": as_str(item.get("reply_id"))} if item.get("reply_id") else {},
        **user_fields(item.get("user")),
    )


def _comments(items: list[Any], parent_id: str, url: str, now: datetime) -> tuple[list[Post], list[Rejected]]:
    posts: list[Post] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping):
            rejected.append(reject(SOURCE, "comment is not an object", url, item, now))
            continue
        nested = item.get("comments") if isinstance(item.get("comments"), list) else []
        for entry in [item, *nested]:
            try:
                result = _comment_post(entry, parent_id, url, now) if isinstance(entry, Mapping) else None
            except UNFORESEEN as exc:
                result = unreadable(SOURCE, url, entry, now, exc)
            if isinstance(result, Post) and result.post_id not in seen:
                seen.add(result.post_id)
                posts.append(result)
            elif isinstance(result, Rejected):
                rejected.append(result)
    return posts, rejected


def _parent(url: str, meta: Mapping[str, Any]) -> str:
    params = query(url)
    return as_str(meta.get("parent_id") or params.get("mid") or params.get("id"))


def parse_hotflow(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """comments/hotflow: comments (kind "comment", parent_id = the post) paged by max_id (0 = last page)."""
    meta = meta or {}
    data = load_json(body, url, "weibo comments/hotflow")
    reason = check_envelope(data, url)
    if reason is not None:
        return _ended("weibo.hotflow", reason, max_id=0)
    inner = require(data, "data", url, "weibo comments/hotflow")
    items = require(inner, "data", url, "weibo comments/hotflow data")
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, data.data is not a list of comments")
    parent_id = _parent(url, meta)
    posts, rejected = _comments(items, parent_id, url, now)
    max_id = inner.get("max_id") or 0
    cursor = {"max_id": max_id, "max_id_type": inner.get("max_id_type", 0), "total": inner.get("total_number"),
              "end": not max_id}
    requests = []
    if max_id:
        requests.append(PageRequest(url=with_query(url, max_id=max_id, max_id_type=inner.get("max_id_type", 0)),
                                    parser="weibo.hotflow", meta={"parent_id": parent_id}))
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.hotflow", cursor=cursor)


def parse_comments_show(body: bytes, url: str, *, now: datetime,
                        meta: Mapping[str, Any] | None = None) -> ParseResult:
    """The older api/comments/show?id=&page=: data.data plus data.hot_data, paged by page up to data.max."""
    meta = meta or {}
    data = load_json(body, url, "weibo api/comments/show")
    reason = check_envelope(data, url)
    page = int_param(url, "page", 1)
    if reason is not None:
        return _ended("weibo.comments_show", reason, page=page, next_page=None)
    inner = require(data, "data", url, "weibo api/comments/show")
    items = require(inner, "data", url, "weibo api/comments/show data")
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, data.data is not a list of comments")
    parent_id = _parent(url, meta)
    posts, rejected = _comments(as_list(inner.get("hot_data")) + items, parent_id, url, now)
    last = parse_count(inner.get("max"))
    next_page = page + 1 if items and page < last else None
    requests = [PageRequest(url=with_query(url, page=next_page), parser="weibo.comments_show",
                            meta={"parent_id": parent_id})] if next_page else []
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.comments_show",
                       cursor={"page": page, "next_page": next_page, "max": last})
