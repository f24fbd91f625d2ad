"""tousu.sina.com.cn (黑猫投诉) in its real shapes: the api/index/s search list JSON and complaint pages."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from demo.model import DemoPost, Response
from yuqing.timefmt import SHANGHAI

_COMPLAINT = re.compile(r"^/complaint/view/(\d+)/?$")
_STATUS_CODE = {"待分配": "1", "处理中": "2", "已回复": "3", "已完成": "4"}
_SALT = "$d6eb7ff91ee257475%"


def signed(query: dict[str, str]) -> bool:
    """The check the site makes: sha256 of [ts, rs, salt, keywords, page_size, page] sorted and joined."""
    parts = [query.get("ts", ""), query.get("rs", ""), _SALT, query.get("keywords", ""),
             query.get("page_size", ""), query.get("page", "")]
    if not parts[0] or len(parts[1]) != 16:
        return False
    expected = hashlib.sha256("".join(sorted(parts, key=lambda x: x.encode("utf-16-be"))).encode()).hexdigest()
    return query.get("signature", "") == expected


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _blob(post: DemoPost) -> str:
    return f"{post.title} {post.text} {post.extra.get('object', '')}"


def _highlight(text: str, words: list[str]) -> str:
    out = escape(text, quote=False)
    for word in words:
        out = out.replace(escape(word), f'<span class="code-red">{escape(word)}</span>')
    return out


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return max(int(query.get(key) or default), 1)
    except ValueError:
        return default


def search(query: dict[str, str], posts: Sequence[DemoPost], page_size: int = 10, *,
           require_signature: bool = True) -> Response:
    if require_signature and not signed(query):
        return _json({"result": {"status": {"code": -1, "msg": "签名错误"}, "data": {}}})
    words = query.get("keywords", "").split()
    if not words:
        return _json({"result": {"status": {"code": 1, "msg": "请输入关键词"}, "data": {}}})
    hits = sorted((p for p in posts if p.kind == "complaint" and all(w in _blob(p) for w in words)),
                  key=lambda p: (p.at, p.post_id), reverse=True)
    page, size = _int(query, "page", 1), min(_int(query, "page_size", page_size), 50)
    chunk = hits[(page - 1) * size: page * size]
    pages = (len(hits) + size - 1) // size
    lists = [{
        "main": {
            "sn": p.post_id, "title": _highlight(p.title, words), "summary": escape(p.text, quote=False),
            "cotitle": _highlight(str(p.extra.get("object", "")), words), "appeal": str(p.extra.get("demands", "")),
            "issue": str(p.extra.get("issue", "")), "status": _STATUS_CODE.get(str(p.extra.get("status", "")), "2"),
            "status_desc": str(p.extra.get("status", "")), "timestamp": str(int(p.at.timestamp())),
            "url": f"//tousu.sina.com.cn/complaint/view/{p.post_id}/", "uid": p.author_id,
            "upvote_amount": str(p.likes), "comment_amount": p.comments, "share_amount": p.reposts,
            "location": p.region,
        },
        "author": {"title": p.author_name, "wbid": p.author_id, "avatar": ""},
    } for p in chunk]
    return _json({"result": {
        "status": {"code": 0, "msg": "ok"},
        "data": {"lists": lists, "pager": {"current": page, "page_amount": pages, "item_count": len(hits),
                                           "page_size": size}},
    }})


def complaint(sn: str, posts: Sequence[DemoPost]) -> Response:
    post = next((p for p in posts if p.kind == "complaint" and p.post_id == sn), None)
    if post is None:
        return Response(404, "<html><body><div class='ts-empty'>该投诉不存在或已删除</div></body></html>".encode(),
                        "text/html; charset=utf-8")
    when = post.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    ip = f'<span class="u-ip">IP属地：{escape(post.region)}</span>' if post.region else ""
    paragraphs = "".join(f"<p>{escape(line, quote=False)}</p>" for line in post.text.split("\n") if line.strip())
    fields = [("投诉编号", escape(post.post_id)), ("投诉对象", f"<a href=\"/company/view/\">{escape(str(post.extra.get('object', '')))}</a>"),
              ("投诉问题", escape(str(post.extra.get("issue", "")))), ("投诉要求", escape(str(post.extra.get("demands", "")))),
              ("投诉进度", f"<b class=\"tag_real\">{escape(str(post.extra.get('status', '')))}</b>")]
    items = "".join(f"<li><label>{name}：</label>{value}</li>" for name, value in fields)
    doc = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(post.title)}_黑猫投诉</title></head>\n'
           f'<body><div class="ts-wrap"><div class="ts-d-question"><h1 class="article">{escape(post.title)}</h1>'
           f'<ul class="ts-q-list">{items}</ul></div><div class="ts-d-steplist"><div class="ts-d-item">'
           f'<div class="ts-d-user"><span class="u-name">{escape(post.author_name)}</span>'
           f'<span class="u-date">{when}</span>{ip}<span class="u-status">发起投诉</span></div>'
           f'<div class="ts-d-cont">{paragraphs}</div></div></div></div></body></html>\n')
    return Response(200, doc.encode("utf-8"), "text/html; charset=utf-8")


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, *,
           page_size: int = 10, require_signature: bool = True, **_: Any) -> Response | None:
    """Serve one request from the Heimao complaints visible at `now`; None when the path is not Heimao's.
    `page_size` (a scenario option) applies when the request does not ask for one. The search API refuses
    requests without the site's signature, as the real one does."""
    mine = [p for p in posts if p.platform == "heimao" and p.at <= now]
    if path == "/api/index/s":
        return search(query, mine, max(int(page_size), 1), require_signature=require_signature)
    match = _COMPLAINT.match(path)
    if match:
        return complaint(match.group(1), mine)
    return None
