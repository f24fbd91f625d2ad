"""m.weibo.cn in its real shapes: search getIndex (type=1 综合, type=61 实时, timescope), statuses/extend, comments/hotflow."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from demo.model import DemoPost, Response
from yuqing.timefmt import SHANGHAI

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EMOTICON = re.compile(r"\[([\u4e00-\u9fff]{1,4})\]")
_TOPIC = re.compile(r"#([^#\s]{1,30})#")
_MENTION = re.compile(r"@([\w\u4e00-\u9fff-]{2,20})")
_TAG = re.compile(r"<[^>]+>")
_TIMESCOPE = re.compile(r"^custom:(\d{4})-(\d{2})-(\d{2})-(\d{1,2}):(\d{4})-(\d{2})-(\d{2})-(\d{1,2})$")
LONG_TEXT_CUT = 140


def weibo_time(at: datetime) -> str:
    """'Sun Nov 22 10:00:00 +0800 2026', as the site writes it."""
    t = at.astimezone(SHANGHAI)
    return f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t:%d %H:%M:%S} +0800 {t.year}"


def to_html(text: str) -> str:
    """Plain scenario text -> the site's HTML: emoticons as <img alt>, #topics# and @mentions as links."""
    html = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br />")
    html = _EMOTICON.sub(
        lambda m: f'<span class="url-icon"><img alt="[{m.group(1)}]" src="https://h5.sinaimg.cn/m/emoticon/icon/'
                  f'default/d_{len(m.group(1))}.png" style="width:1em; height:1em;" /></span>', html)
    html = _TOPIC.sub(
        lambda m: '<a href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D'
                  f'{quote("#" + m.group(1) + "#")}" data-hide=""><span class="surl-text">#{m.group(1)}#</span></a>',
        html)
    return _MENTION.sub(lambda m: f"<a href='/n/{m.group(1)}'>@{m.group(1)}</a>", html)


def plain(post: DemoPost) -> str:
    return _TAG.sub("", post.long_text or post.text)


def mblog(post: DemoPost) -> dict[str, Any]:
    """One mblog object as the search API and timelines carry it."""
    long = bool(post.long_text)
    if long:
        text = to_html(post.long_text[:LONG_TEXT_CUT]) + f'...<a href="/status/{post.post_id}">全文</a>'
    else:
        text = to_html(post.text)
    return {
        "visible": {"type": 0, "list_id": 0},
        "created_at": weibo_time(post.at),
        "id": post.post_id,
        "mid": post.post_id,
        "bid": f"P{int(post.post_id) % 10**9:x}" if post.post_id.isdigit() else post.post_id,
        "can_edit": False,
        "text": text,
        "textLength": len(plain(post)) * 2,
        "source": "iPhone客户端",
        "favorited": False,
        "pic_ids": [],
        "is_paid": False,
        "user": {
            "id": int(post.author_id) if post.author_id.isdigit() else post.author_id,
            "screen_name": post.author_name,
            "profile_image_url": f"https://tvax1.sinaimg.cn/crop.0.0.180.180.180/{post.author_id}.jpg",
            "verified": post.verified,
            "verified_type": 0 if post.verified else -1,
            "followers_count": post.followers,
            "follow_count": 180,
        },
        "reposts_count": post.reposts,
        "comments_count": post.comments,
        "reprint_cmt_count": 0,
        "attitudes_count": post.likes,
        "isLongText": long,
        "region_name": f"发布于 {post.region}" if post.region else "",
        "mblogtype": 0,
    }


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _empty() -> Response:
    return _json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})


def _window(scope: str) -> tuple[datetime, datetime] | None:
    m = _TIMESCOPE.match(scope)
    if not m:
        return None
    y1, mo1, d1, h1, y2, mo2, d2, h2 = (int(g) for g in m.groups())
    start = datetime(y1, mo1, d1, h1, tzinfo=SHANGHAI)
    return start, datetime(y2, mo2, d2, h2, tzinfo=SHANGHAI) + timedelta(hours=1)


def search(query: dict[str, str], posts: Sequence[DemoPost], *, page_size: int, page_cap: int) -> Response:
    inner = {k: v[0] for k, v in parse_qs(query.get("containerid", "")[len("100103"):]).items()}
    words = inner.get("q", "").split()
    if not query.get("containerid", "").startswith("100103") or not words:
        return _json({"ok": 0, "msg": "请求参数错误"})
    scope = query.get("timescope") or inner.get("timescope", "")
    window = _window(scope) if scope else None
    if scope and window is None:
        return _json({"ok": 0, "msg": "时间范围格式错误"})
    hits = [p for p in posts if p.kind in ("post", "repost") and all(w in plain(p) for w in words)
            and (window is None or window[0] <= p.at < window[1])]
    if inner.get("type") == "61":  # 实时: newest first
        hits.sort(key=lambda p: (p.at, p.post_id), reverse=True)
    else:  # 综合: most engaged first
        hits.sort(key=lambda p: (p.reposts + p.comments + p.likes, p.at, p.post_id), reverse=True)
    try:
        page = max(int(query.get("page", "1") or 1), 1)
    except ValueError:
        return _json({"ok": 0, "msg": "请求参数错误"})
    chunk = hits[(page - 1) * page_size: page * page_size]
    if page > page_cap or not chunk:
        return _empty()
    info: dict[str, Any] = {"containerid": query["containerid"], "v_p": 42, "show_style": 1,
                            "total": len(hits), "page_size": page_size}
    if page < page_cap and page * page_size < len(hits):
        info["page"] = page + 1
    cards = [{"card_type": 9, "itemid": f"seqid:{p.post_id}", "scheme": f"https://m.weibo.cn/status/{p.post_id}",
              "mblog": mblog(p)} for p in chunk]
    return _json({"ok": 1, "data": {"cardlistInfo": info, "cards": cards, "scheme": ""}})


def extend(query: dict[str, str], posts: Sequence[DemoPost]) -> Response:
    post = next((p for p in posts if p.post_id == query.get("id", "")), None)
    if post is None:
        return _json({"ok": 0, "msg": "微博不存在或暂无查看权限!"})
    return _json({"ok": 1, "data": {"ok": 1, "longTextContent": to_html(post.long_text or post.text),
                                    "reposts_count": post.reposts, "comments_count": post.comments,
                                    "attitudes_count": post.likes}})


def hotflow(query: dict[str, str], posts: Sequence[DemoPost], *, page_size: int = 20) -> Response:
    root = query.get("id") or query.get("mid", "")
    replies = sorted((p for p in posts if p.kind == "comment" and p.parent_id == root), key=lambda p: p.at)
    start = int(query.get("max_id", "0") or 0)
    chunk = replies[start: start + page_size]
    if not chunk:
        return _json({"ok": 0, "msg": "快来发表你的评论吧"})
    nxt = start + page_size if start + page_size < len(replies) else 0
    data = [{"created_at": weibo_time(p.at), "id": p.post_id, "rootid": p.post_id, "rootidstr": p.post_id,
             "floor_number": start + i + 1, "text": to_html(p.text), "disable_reply": 0,
             "user": mblog(p)["user"], "mid": p.post_id, "max_id": nxt, "total_number": len(replies),
             "source": f"来自{p.region}" if p.region else "", "like_count": p.likes, "liked": False}
            for i, p in enumerate(chunk)]
    return _json({"ok": 1, "data": {"data": data, "total_number": len(replies), "max_id": nxt, "max_id_type": 0}})


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, *,
           page_size: int = 10, page_cap: int = 50) -> Response | None:
    """Serve one request from the posts visible at `now`; None when the path is not the site's."""
    if path == "/api/container/getIndex":
        return search(query, posts, page_size=int(page_size), page_cap=int(page_cap))
    if path == "/statuses/extend":
        return extend(query, posts)
    if path == "/comments/hotflow":
        return hotflow(query, posts)
    return None
