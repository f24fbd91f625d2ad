"""www.zhihu.com in its real shapes: api/v4/search_v3 (articles as excerpts only, as the real search gives them),
questions/{id}/answers (cursor paging) and articles/{id} (the full article)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from demo.model import DemoPost, Response

HOST = "https://www.zhihu.com"
_TAG = re.compile(r"<[^>]+>")
_ANSWERS = re.compile(r"^/api/v4/questions/(\d+)/answers$")
_MEMBER = re.compile(r"^/api/v4/members/([^/]+)/answers$")
_ARTICLE = re.compile(r"^/api/v4/articles/(\d+)$")


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _plain(text: str) -> str:
    return _TAG.sub("", text)


def _html(text: str) -> str:
    """Scenario text as Zhihu stores it: paragraphs of HTML (already-HTML text is kept)."""
    if "<p>" in text:
        return text
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(f"<p>{line}</p>" for line in escaped.split("\n") if line.strip())


def question_id(post: DemoPost) -> str:
    return str(post.extra.get("question_id") or post.parent_id or (post.post_id if post.kind == "question" else ""))


def _author(post: DemoPost) -> dict[str, Any]:
    token = post.author_id or "anonymous"
    return {"id": token, "url_token": token, "name": post.author_name or "匿名用户", "type": "people",
            "user_type": "people", "headline": "", "follower_count": post.followers,
            "url": f"{HOST}/api/v4/people/{token}"}


def entity(post: DemoPost) -> dict[str, Any]:
    """The answer / article / question object the APIs carry."""
    created = int(post.at.timestamp())
    base: dict[str, Any] = {"id": post.post_id, "created_time": created, "updated_time": created,
                            "author": _author(post)}
    if post.region:
        base["ip_info"] = f"IP 属地{post.region}"
    if post.kind == "question":
        return {**base, "type": "question", "title": post.title or _plain(post.text)[:40],
                "excerpt": _plain(post.text)[:100], "detail": _html(post.text),
                "answer_count": post.comments, "follower_count": post.likes,
                "url": f"{HOST}/api/v4/questions/{post.post_id}"}
    if post.kind == "article":
        return {**base, "type": "article", "title": post.title, "content": _html(post.text),
                "excerpt": _plain(post.text)[:100], "voteup_count": post.likes, "comment_count": post.comments,
                "url": f"{HOST}/api/v4/articles/{post.post_id}"}
    qid = question_id(post)
    return {**base, "type": "answer", "content": _html(post.text), "excerpt": _plain(post.text)[:100],
            "voteup_count": post.likes, "comment_count": post.comments, "url": f"{HOST}/api/v4/answers/{post.post_id}",
            "question": {"id": qid, "type": "question", "title": post.title, "name": post.title,
                         "url": f"{HOST}/api/v4/questions/{qid}"}}


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return max(int(query.get(key) or default), 0)
    except ValueError:
        return default


def _page(items: list[DemoPost], path: str, query: dict[str, str], limit_default: int) -> tuple[list[DemoPost], dict]:
    offset, limit = _int(query, "offset", 0), min(_int(query, "limit", limit_default) or limit_default, 20)
    if query.get("cursor", "").isdigit():
        offset = int(query["cursor"])
    chunk = items[offset: offset + limit]
    is_end = offset + limit >= len(items)
    nxt = {**query, "offset": str(offset + limit), "limit": str(limit)}
    if "cursor" in query or path.endswith("/answers"):
        nxt["cursor"] = str(offset + limit)
    prev = {**query, "offset": str(max(offset - limit, 0)), "limit": str(limit)}
    paging = {"is_end": is_end, "is_start": offset == 0, "totals": len(items),
              "next": f"{HOST}{path}?{urlencode(nxt, quote_via=quote)}",
              "previous": f"{HOST}{path}?{urlencode(prev, quote_via=quote)}"}
    return chunk, paging


def _search_object(post: DemoPost) -> dict[str, Any]:
    obj = entity(post)
    if post.kind == "article":
        obj.pop("content", None)
    return obj


def search(query: dict[str, str], posts: Sequence[DemoPost]) -> Response:
    words = query.get("q", "").split()
    if not words:
        return _json({"error": {"code": 10003, "message": "请输入搜索内容", "name": "ParamError"}}, 400)
    hits = [p for p in posts if all(w in f"{p.title} {_plain(p.text)}" for w in words)]
    hits.sort(key=lambda p: (p.at, p.post_id), reverse=True)
    chunk, paging = _page(hits, "/api/v4/search_v3", query, 20)
    data = [{"type": "search_result", "highlight": {"title": p.title, "description": _plain(p.text)[:60]},
             "object": _search_object(p)} for p in chunk]
    return _json({"paging": paging, "data": data, "search_action_info": {"search_hash_id": "demo"}})


def answers(path: str, query: dict[str, str], posts: Sequence[DemoPost], *, qid: str = "", member: str = "") -> Response:
    items = [p for p in posts if p.kind == "answer" and ((qid and question_id(p) == qid) or
                                                          (member and p.author_id == member))]
    if qid and not items and not any(p.kind == "question" and p.post_id == qid for p in posts):
        return _json({"error": {"code": 404, "message": "问题不存在", "name": "NotFoundError"}}, 404)
    items.sort(key=lambda p: (p.at, p.post_id), reverse=True)
    chunk, paging = _page(items, path, query, 5)
    return _json({"paging": paging, "data": [entity(p) for p in chunk]})


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, **_: Any) -> Response | None:
    """Serve one request from the Zhihu posts visible at `now`; None when the path is not Zhihu's."""
    mine = [p for p in posts if p.platform == "zhihu" and p.at <= now]
    if path == "/api/v4/search_v3":
        return search(query, mine)
    match = _ANSWERS.match(path)
    if match:
        return answers(path, query, mine, qid=match.group(1))
    match = _ARTICLE.match(path)
    if match:
        found = next((p for p in mine if p.kind == "article" and p.post_id == match.group(1)), None)
        if found is None:
            return _json({"error": {"code": 404, "message": "文章不存在", "name": "NotFoundError"}}, 404)
        return _json(entity(found))
    match = _MEMBER.match(path)
    if match:
        return answers(path, query, mine, member=match.group(1))
    return None
