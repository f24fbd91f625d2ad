"""One Weibo `mblog` object (m.weibo.cn and weibo.com/ajax share it) -> Post, and the API's ok/msg envelope."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest
from .common import UNFORESEEN, as_str, looks_blocked, reject, unreadable
from .counts import parse_count
from .dates import DateError, parse_date
from .html import html_text

EXTEND_URL = "https://m.weibo.cn/statuses/extend?id={id}"


def check_envelope(data: Any, url: str) -> str | None:
    """None when the body is `ok:1`; the end reason for an honest `ok:0`; raises Blocked for login/rate limits."""
    if not isinstance(data, Mapping):
        return None
    ok = data.get("ok")
    if ok in (1, "1", True) or ok is None:
        return None
    msg = str(data.get("msg") or data.get("message") or "")
    if ok == -100 or str(ok) == "-100" or looks_blocked(msg) or "passport" in str(data.get("url", "")):
        raise Blocked(f"{url}: weibo refused the request (ok={ok}, msg={msg!r}, url={data.get('url', '')!r})")
    return msg or f"ok={ok}"


def region(value: object) -> str:
    """IP属地 from `region_name` ("发布于 广东") or a comment's `source` ("来自广东")."""
    text = as_str(value)
    for prefix in ("发布于", "来自", "IP属地：", "IP属地:", "IP属地"):
        if text.startswith(prefix):
            return text[len(prefix):].strip()
    return text


def user_fields(user: Any) -> dict[str, Any]:
    """Author fields of a Post from a Weibo `user` object (may be None for deleted posts)."""
    if not isinstance(user, Mapping):
        return {}
    return {
        "author_id": as_str(user.get("idstr") or user.get("id")),
        "author_name": as_str(user.get("screen_name")),
        "author_verified": bool(user.get("verified")),
        "author_followers": parse_count(user.get("followers_count_str") or user.get("followers_count")),
    }


def mblog_post(
    mblog: Mapping[str, Any], url: str, now: datetime, *, source: str = "weibo", keyword: str = ""
) -> tuple[list[Post], list[PageRequest], list[Rejected]]:
    """The post (and its retweeted original) of one mblog, plus a statuses/extend request when truncated; an mblog
    it cannot read is one rejected item (the rest of the page is kept)."""
    try:
        return _mblog_post(mblog, url, now, source=source, keyword=keyword)
    except UNFORESEEN as exc:
        return [], [], [unreadable(source, url, mblog, now, exc)]


def _mblog_post(
    mblog: Mapping[str, Any], url: str, now: datetime, *, source: str = "weibo", keyword: str = ""
) -> tuple[list[Post], list[PageRequest], list[Rejected]]:
    posts: list[Post] = []
    requests: list[PageRequest] = []
    rejected: list[Rejected] = []
    parent_id = ""
    root = mblog.get("retweeted_status")
    if isinstance(root, Mapping):
        parent_id = as_str(root.get("idstr") or root.get("id") or root.get("mid"))
        if root.get("user") and parent_id:
            sub_posts, sub_requests, sub_rejected = mblog_post(root, url, now, source=source, keyword=keyword)
            posts += sub_posts
            requests += sub_requests
            rejected += sub_rejected
        else:
            rejected.append(reject(source, "retweeted post deleted or hidden", url, root, now))
    post_id = as_str(mblog.get("idstr") or mblog.get("id") or mblog.get("mid"))
    if not post_id:
        return posts, requests, rejected + [reject(source, "mblog without id", url, mblog, now)]
    html = mblog.get("text")
    text, truncated = html_text(html) if isinstance(html, str) and html else (as_str(mblog.get("text_raw")), False)
    if not text:
        text = as_str(mblog.get("raw_text") or mblog.get("text_raw"))
    if not text:
        return posts, requests, rejected + [reject(source, f"mblog {post_id} has no text", url, mblog, now)]
    try:
        published = parse_date(mblog.get("created_at"), now)
    except DateError as exc:
        return posts, requests, rejected + [reject(source, f"mblog {post_id}: {exc}", url, mblog, now)]
    long_text = bool(mblog.get("isLongText")) or truncated
    embedded = mblog.get("longText")  # statuses/show embeds the full text of a long post
    if long_text and isinstance(embedded, Mapping) and isinstance(embedded.get("longTextContent"), str):
        full = html_text(embedded["longTextContent"])[0]
        if full:
            text, long_text = full, False
    bid = as_str(mblog.get("bid") or mblog.get("mblogid"))
    post = Post(
        platform="weibo",
        post_id=post_id,
        text=text,
        published_at=published,
        url=f"https://m.weibo.cn/detail/{post_id}",
        kind="repost" if parent_id else "post",
        reposts=parse_count(mblog.get("reposts_count")),
        comments=parse_count(mblog.get("comments_count")),
        likes=parse_count(mblog.get("attitudes_count")),
        parent_id=parent_id,
        ip_region=region(mblog.get("region_name")),
        keyword=keyword,
        extra={k: v for k, v in (("bid", bid), ("source", as_str(mblog.get("source"))),
                                 ("truncated", long_text)) if v},
        **user_fields(mblog.get("user")),
    )
    posts.append(post)
    if long_text:
        requests.append(PageRequest(url=EXTEND_URL.format(id=post_id), parser="weibo.extend", meta={"post": post}))
    return posts, requests, rejected


def with_full_text(post: Post, full_text: str, counts: Mapping[str, Any]) -> Post:
    """`post` with the long text from statuses/extend and its fresher counts."""
    extra = {k: v for k, v in post.extra.items() if k != "truncated"}
    changes: dict[str, Any] = {"text": full_text, "extra": extra}
    for field, key in (("reposts", "reposts_count"), ("comments", "comments_count"), ("likes", "attitudes_count")):
        if key in counts:
            changes[field] = parse_count(counts[key])
    return dataclasses.replace(post, **changes)
