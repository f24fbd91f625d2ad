"""api.bilibili.com in its real shapes: nav (the day's WBI keys, answered -101 to a guest), WBI-signed video search
(x/web-interface/wbi/search/type) and comments (x/v2/reply/wbi/main, newest first, paged by pagination_str), and
sub-replies (x/v2/reply/reply). A WBI call without a valid w_rid gets the site's -352 with a v_voucher.

Scenario posts: a video is kind post (post_id = aid, title, text = description, extra bvid, tag, play,
duration); a comment is kind comment with parent_id = aid; a sub-reply has extra.root = its root comment's id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from demo.model import DemoPost, Response

# the demo's own keys (the real ones change daily); nav hands them out as the file names of two "images"
IMG_KEY, SUB_KEY = "b7a1f2c3d4e5f60718293a4b5c6d7e8f", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
_TAB = (46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38,
        41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36,
        20, 34, 44, 52)
_B58 = "FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf"


def signed(query: dict[str, str], img_key: str = IMG_KEY, sub_key: str = SUB_KEY) -> bool:
    """The site's check: md5 of the sorted, filtered, encoded query (wts included) + the mixin key."""
    if not query.get("wts") or not query.get("w_rid"):
        return False
    mixin = "".join((img_key + sub_key)[i] for i in _TAB)[:32]
    pairs = sorted((k, "".join(c for c in v if c not in "!'()*")) for k, v in query.items() if k != "w_rid")
    canonical = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return hashlib.md5((canonical + mixin).encode()).hexdigest() == query["w_rid"]


def bvid(video: DemoPost) -> str:
    """The video's BV id: the scenario's, else a stable made-up one."""
    if video.extra.get("bvid"):
        return str(video.extra["bvid"])
    n, out = int(video.post_id), ""
    for _ in range(10):
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "BV1" + out[-9:]


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _refused() -> Response:
    return _json({"code": -352, "message": "-352", "ttl": 1, "data": {"v_voucher": "voucher_demo-0000"}})


def nav() -> Response:
    return _json({"code": -101, "message": "账号未登录", "ttl": 1, "data": {"isLogin": False, "wbi_img": {
        "img_url": f"https://i0.hdslb.com/bfs/wbi/{IMG_KEY}.png", "sub_url": f"https://i0.hdslb.com/bfs/wbi/{SUB_KEY}.png"}}})


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return max(int(query.get(key) or default), 1)
    except ValueError:
        return default


def _highlight(text: str, words: list[str]) -> str:
    out = escape(text, quote=False)
    for w in words:
        out = out.replace(escape(w), f'<em class="keyword">{escape(w)}</em>')
    return out


def search(query: dict[str, str], videos: list[DemoPost], comments: dict[str, list[DemoPost]], page_size: int) -> Response:
    if not signed(query):
        return _refused()
    words = query.get("keyword", "").split()
    if query.get("search_type") != "video" or not words:
        return _json({"code": -400, "message": "请求错误", "ttl": 1})
    hits = [v for v in videos if all(w in f"{v.title} {v.text} {v.extra.get('tag', '')}" for w in words)]
    hits.sort(key=lambda v: (v.at, v.post_id), reverse=True)  # order=pubdate
    size = min(_int(query, "page_size", page_size), 50)
    page, pages = _int(query, "page", 1), (len(hits) + size - 1) // size
    result = [{"type": "video", "id": int(v.post_id), "author": v.author_name, "mid": int(v.author_id or 0),
               "typename": str(v.extra.get("typename", "生活")), "arcurl": f"http://www.bilibili.com/video/av{v.post_id}",
               "aid": int(v.post_id), "bvid": bvid(v), "title": _highlight(v.title, words),
               "description": escape(v.text, quote=False), "pic": "//i0.hdslb.com/bfs/archive/demo.jpg",
               "play": int(v.extra.get("play", 0)), "video_review": v.reposts, "favorites": v.likes // 10,
               "tag": str(v.extra.get("tag", "")), "review": len(comments.get(v.post_id, [])), "pubdate": int(v.at.timestamp()),
               "senddate": int(v.at.timestamp()), "duration": str(v.extra.get("duration", "3:00")), "like": v.likes,
               "danmaku": v.reposts, "hit_columns": ["title"], "is_pay": 0, "is_union_video": 0}
              for v in hits[(page - 1) * size: page * size]]
    return _json({"code": 0, "message": "0", "ttl": 1, "data": {
        "seid": "demo", "page": page, "pagesize": size, "numResults": len(hits), "numPages": pages,
        "suggest_keyword": "", "rqt_type": "search", "result": result}})


def reply(c: DemoPost, subs: list[DemoPost], preview: int) -> dict[str, Any]:
    root = str(c.extra.get("root") or 0)
    return {"rpid": int(c.post_id), "oid": int(c.parent_id), "type": 1, "mid": int(c.author_id or 0), "root": int(root),
            "parent": int(root), "count": len(subs), "rcount": len(subs), "ctime": int(c.at.timestamp()),
            "rpid_str": c.post_id, "root_str": root, "parent_str": root, "like": c.likes,
            "member": {"mid": c.author_id, "uname": c.author_name, "level_info": {"current_level": 4}},
            "content": {"message": c.text, "members": [], "jump_url": {}, "max_line": 6},
            "replies": [reply(s, [], 0) for s in subs[:preview]] if root == "0" else None,
            "reply_control": {"location": f"IP属地：{c.region}" if c.region else "", "time_desc": ""}}


def main(query: dict[str, str], comments: dict[str, list[DemoPost]], page_size: int, preview: int) -> Response:
    """Roots newest first (mode=2); the offset is the index of the next root, wrapped as the site wraps it."""
    if not signed(query):
        return _refused()
    oid = query.get("oid", "")
    if oid not in comments:
        return _json({"code": -404, "message": "啥都木有", "ttl": 1, "data": None})
    everything = comments[oid]
    roots = sorted((c for c in everything if not c.extra.get("root")), key=lambda c: (c.at, c.post_id), reverse=True)
    try:
        start = int(json.loads(json.loads(query.get("pagination_str") or '{"offset":""}').get("offset") or '{"c":0}')["c"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return _json({"code": -400, "message": "请求错误", "ttl": 1})
    chunk = roots[start: start + page_size]
    end = start + page_size >= len(roots)
    subs = {r.post_id: sorted((c for c in everything if str(c.extra.get("root")) == r.post_id), key=lambda c: c.at)
            for r in chunk}
    return _json({"code": 0, "message": "0", "ttl": 1, "data": {
        "cursor": {"is_begin": start == 0, "prev": 0, "next": 0, "is_end": end, "all_count": len(everything), "mode": 2,
                   "pagination_reply": {} if end else {"next_offset": json.dumps({"c": start + page_size})}},
        "replies": [reply(r, subs[r.post_id], preview) for r in chunk], "top_replies": [], "upper": {"mid": 0}}})


def sub_replies(query: dict[str, str], comments: dict[str, list[DemoPost]], page_size: int) -> Response:
    oid, root = query.get("oid", ""), query.get("root", "")
    subs = sorted((c for c in comments.get(oid, []) if str(c.extra.get("root")) == root), key=lambda c: (c.at, c.post_id))
    if not subs and not any(c.post_id == root for c in comments.get(oid, [])):
        return _json({"code": 12022, "message": "已经被删除了", "ttl": 1, "data": None})
    size = min(_int(query, "ps", page_size), 20)
    pn = _int(query, "pn", 1)
    return _json({"code": 0, "message": "0", "ttl": 1, "data": {
        "page": {"count": len(subs), "num": pn, "size": size},
        "replies": [reply(c, [], 0) for c in subs[(pn - 1) * size: pn * size]], "upper": {"mid": 0}}})


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, *, page_size: int = 20,
           comment_page_size: int = 20, preview: int = 3, **_: Any) -> Response | None:
    """Serve one request from the Bilibili posts visible at `now`; None when the path is not Bilibili's. Page sizes
    are the site's (20 videos, 20 comments, 3 sub-replies shown under a comment) unless the scenario sets others."""
    mine = [p for p in posts if p.platform == "bilibili" and p.at <= now]
    videos = [p for p in mine if p.kind == "post"]
    comments: dict[str, list[DemoPost]] = {v.post_id: [] for v in videos}
    for c in mine:
        if c.kind == "comment" and c.parent_id in comments:
            comments[c.parent_id].append(c)
    if path == "/x/web-interface/nav":
        return nav()
    if path == "/x/web-interface/wbi/search/type":
        return search(query, videos, comments, max(int(page_size), 1))
    if path == "/x/v2/reply/wbi/main":
        return main(query, comments, max(int(comment_page_size), 1), max(int(preview), 0))
    if path == "/x/v2/reply/reply":
        return sub_replies(query, comments, max(int(comment_page_size), 1))
    return None
