"""Bilibili (B站, api.bilibili.com): the nav API (WBI keys), video search and the comment APIs.

Ids: a video is `av<aid>` (its comments name it by `oid` = aid, so a comment's parent_id is derivable from
the comment alone; the bvid is kept in extra and the URL); a comment keeps its rpid. Every answer is
`{code, message, data}`: risk control (-352 风控校验失败, -412 请求被拦截, -403, -799/-509 请求过于频繁,
-101 未登录) and a `v_voucher` instead of data (WBI signature missing or wrong) raise Blocked; -404 (gone)
and closed comment sections are an honest end; any other code is a ParseError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import as_list, as_map, as_str, int_param, load_json, looks_blocked, query, reject, with_query
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import to_text

SOURCE = "bilibili"
API = "https://api.bilibili.com"
BLOCK_CODES = {-352: "风控校验失败", -412: "请求被拦截", -403: "访问权限不足", -799: "请求过于频繁",
               -509: "请求过于频繁", -101: "账号未登录"}
END_CODES = {-404: "啥都木有", 12002: "评论区已关闭", 12061: "UP主已关闭评论区", 62002: "稿件不可见",
             62004: "稿件审核中", 62012: "仅UP主自己可见"}


def video_key(aid: object) -> str:
    return f"av{as_str(aid)}"


def _envelope(body: bytes, url: str, expected: str) -> tuple[Any, str | None]:
    """(data, None) for a normal answer; (None, reason) for an honest end; raises Blocked / ParseError."""
    text = decode(body).lstrip()
    if text.startswith("<") and ("风控" in text[:20000] or "412" in text[:300]):
        raise Blocked(f"{url}: bilibili refused the request (安全风控 page)")
    obj = load_json(body, url, expected)
    code = obj.get("code") if isinstance(obj, Mapping) else None
    if not isinstance(code, int) or isinstance(code, bool):
        raise ParseError(f"{url}: changed layout, no numeric 'code' in {expected} JSON")
    message = as_str(obj.get("message"))
    data = obj.get("data")
    if isinstance(data, Mapping) and data.get("v_voucher"):
        raise Blocked(f"{url}: bilibili answered a v_voucher (code={code}): WBI signature missing or wrong")
    if code in BLOCK_CODES or looks_blocked(message):
        raise Blocked(f"{url}: bilibili refused (code={code}, {message or BLOCK_CODES.get(code, '')!r})")
    if code in END_CODES:
        return None, f"{END_CODES[code]} (code={code})"
    if code != 0:
        raise ParseError(f"{url}: bilibili error code={code} message={message!r} in {expected}")
    return data, None


def parse_nav(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """x/web-interface/nav: data.wbi_img {img_url, sub_url} -> cursor {img_key, sub_key}. Answered with code
    -101 (未登录) and the keys when no one is logged in, which is normal here."""
    obj = load_json(body, url, "bilibili nav")
    code = obj.get("code") if isinstance(obj, Mapping) else None
    if code not in (0, -101) or isinstance(code, bool):
        if isinstance(code, int) and code in BLOCK_CODES:
            raise Blocked(f"{url}: bilibili refused the nav request (code={code})")
        raise ParseError(f"{url}: changed layout, bilibili nav without code 0 or -101")
    wbi = as_map(as_map(obj.get("data")).get("wbi_img"))
    img, sub = as_str(wbi.get("img_url")), as_str(wbi.get("sub_url"))
    if not img or not sub:
        raise ParseError(f"{url}: changed layout, no data.wbi_img.img_url/sub_url in bilibili nav")
    return ParseResult(page_kind="bilibili.nav", cursor={"img_key": _file_name(img), "sub_key": _file_name(sub),
                                                          "logged_in": code == 0})


def _file_name(url: str) -> str:
    """'https://i0.hdslb.com/bfs/wbi/7cd0….png' -> '7cd0…': the key is the image's file name."""
    return url.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]


def _video(item: Mapping[str, Any], url: str, now: datetime, keyword: str) -> Post | Rejected:
    aid, bvid = as_str(item.get("aid") or item.get("id")), as_str(item.get("bvid"))
    title = to_text(as_str(item.get("title")))
    if not aid or not title:
        return reject(SOURCE, "video without aid or title", url, item, now)
    try:
        published = parse_date(item.get("pubdate") or item.get("senddate"), now)
    except DateError as exc:
        return reject(SOURCE, f"video av{aid}: {exc}", url, item, now)
    description = to_text(as_str(item.get("description") or item.get("desc")))
    extra: dict[str, Any] = {"aid": aid, "bvid": bvid, "play": parse_count(item.get("play")),
                             "danmaku": parse_count(item.get("video_review", item.get("danmaku"))),
                             "favorites": parse_count(item.get("favorites")), "duration": as_str(item.get("duration")),
                             "typename": as_str(item.get("typename")), "tag": as_str(item.get("tag"))}
    link = f"https://www.bilibili.com/video/{bvid}" if bvid else f"https://www.bilibili.com/video/av{aid}"
    return Post(platform="bilibili", post_id=video_key(aid), kind="post", title=title,
                text=f"{title}\n{description}" if description and description != "-" else title, published_at=published,
                url=link, author_id=as_str(item.get("mid")), author_name=to_text(as_str(item.get("author"))),
                likes=parse_count(item.get("like")), comments=parse_count(item.get("review")), keyword=keyword,
                extra={k: v for k, v in extra.items() if v not in ("", 0)})


def parse_search(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """x/web-interface/wbi/search/type?search_type=video: data.result[] videos, paged by page up to numPages."""
    meta = meta or {}
    data, reason = _envelope(body, url, "bilibili search")
    page = int_param(url, "page", 1)
    if reason is not None:
        return ParseResult(page_kind="bilibili.search", cursor={"end": True, "reason": reason, "page": page})
    if not isinstance(data, Mapping) or "numPages" not in data and "numResults" not in data:
        raise ParseError(f"{url}: changed layout, no data.numPages in bilibili search")
    items = data.get("result")
    if items is None:  # no hit at all: the site sends no result list
        items = []
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, data.result is {type(items).__name__}, expected a list")
    keyword = as_str(meta.get("keyword") or query(url).get("keyword"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    skipped = 0
    for item in items:
        if not isinstance(item, Mapping):
            rejected.append(reject(SOURCE, "search result is not an object", url, item, now))
        elif item.get("type", "video") != "video":
            skipped += 1  # a live room, article … mixed into the list: not a video
        else:
            result = _video(item, url, now, keyword)
            (posts if isinstance(result, Post) else rejected).append(result)  # type: ignore[arg-type]
    pages = parse_count(data.get("numPages"))
    current = parse_count(data.get("page")) or page
    next_page = current + 1 if items and current < pages else None
    requests = [PageRequest(url=with_query(url, page=next_page, w_rid=None, wts=None), parser="bilibili.search",
                            meta={"keyword": keyword})] if next_page else []
    cursor: dict[str, Any] = {"page": current, "next_page": next_page, "pages": pages,
                              "total": parse_count(data.get("numResults"))}
    if skipped:
        cursor["skipped"] = skipped
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    if not items:
        cursor.update(end=True, reason="no results")
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="bilibili.search", cursor=cursor)


def _region(reply: Mapping[str, Any]) -> str:
    location = as_str(as_map(reply.get("reply_control")).get("location"))
    for prefix in ("IP属地：", "IP属地:", "IP属地"):
        if location.startswith(prefix):
            return location[len(prefix):].strip()
    return location


def _comment(reply: Mapping[str, Any], url: str, now: datetime, oid: str) -> Post | Rejected:
    rpid = as_str(reply.get("rpid_str") or reply.get("rpid"))
    parent_oid = as_str(reply.get("oid")) or oid
    text = as_str(as_map(reply.get("content")).get("message")).strip()
    if not rpid or not parent_oid or not text:
        return reject(SOURCE, f"comment {rpid or '?'} without id, video or text", url, reply, now)
    try:
        published = parse_date(reply.get("ctime"), now)
    except DateError as exc:
        return reject(SOURCE, f"comment {rpid}: {exc}", url, reply, now)
    member = as_map(reply.get("member"))
    extra = {k: as_str(reply.get(f"{k}_str") or reply.get(k)) for k in ("root", "parent")}
    return Post(platform="bilibili", post_id=rpid, kind="comment", text=text, published_at=published,
                parent_id=video_key(parent_oid), url=f"https://www.bilibili.com/video/av{parent_oid}#reply{rpid}",
                author_id=as_str(member.get("mid") or reply.get("mid")), author_name=as_str(member.get("uname")),
                likes=parse_count(reply.get("like")), comments=parse_count(reply.get("rcount")), ip_region=_region(reply),
                extra={k: v for k, v in extra.items() if v not in ("", "0")})


def _replies(data: Mapping[str, Any], url: str, now: datetime, oid: str) -> tuple[list[Post], list[Rejected], int]:
    """Top, hot and ordinary replies with the sub-replies each carries; (posts, rejected, ordinary reply count)."""
    main = data.get("replies")
    if main is not None and not isinstance(main, list):
        raise ParseError(f"{url}: changed layout, data.replies is {type(main).__name__}, expected a list")
    pinned = [*as_list(data.get("top_replies")), *as_list(data.get("hots")), as_map(as_map(data.get("upper")).get("top"))]
    posts: list[Post] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for reply in [*(r for r in pinned if r), *(main or [])]:
        if not isinstance(reply, Mapping):
            rejected.append(reject(SOURCE, "comment is not an object", url, reply, now))
            continue
        for item in [reply, *as_list(reply.get("replies"))]:
            result = _comment(item, url, now, oid) if isinstance(item, Mapping) else None
            if isinstance(result, Post) and result.post_id not in seen:
                seen.add(result.post_id)
                posts.append(result)
            elif isinstance(result, Rejected):
                rejected.append(result)
    return posts, rejected, len(main or [])


def parse_comments(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """x/v2/reply/wbi/main (cursor: pagination_reply.next_offset), x/v2/reply?pn= and x/v2/reply/reply?root=&pn=
    (page: num, size, count): comments of a video (kind comment, parent_id av<oid>) and the sub-replies shown."""
    data, reason = _envelope(body, url, "bilibili comments")
    params = query(url)
    if reason is not None:
        return ParseResult(page_kind="bilibili.comments", cursor={"end": True, "reason": reason})
    if not isinstance(data, Mapping) or not ("cursor" in data or "page" in data):
        raise ParseError(f"{url}: changed layout, no data.cursor or data.page in bilibili comments")
    oid = as_str(params.get("oid"))
    posts, rejected, count = _replies(data, url, now, oid)
    unsigned: dict[str, object] = {"w_rid": None, "wts": None}  # the next page is signed afresh when sent
    nxt: dict[str, object] = {}
    if isinstance(data.get("cursor"), Mapping):
        cur = data["cursor"]
        offset = as_str(as_map(cur.get("pagination_reply")).get("next_offset"))
        is_end = bool(cur.get("is_end")) or not count
        cursor: dict[str, Any] = {"is_end": is_end, "end": is_end, "next_offset": offset or None,
                                  "all_count": cur.get("all_count")}
        if not is_end and offset:
            nxt["pagination_str"] = json.dumps({"offset": offset}, ensure_ascii=False, separators=(",", ":"))
        elif not is_end and cur.get("next"):  # the older numeric cursor (?next=)
            nxt["next"] = as_str(cur.get("next"))
    else:
        page = as_map(data.get("page"))
        num, size, total = parse_count(page.get("num")) or 1, parse_count(page.get("size")), parse_count(page.get("count"))
        more = bool(count) and num * max(size, 1) < total
        cursor = {"page": num, "next_page": num + 1 if more else None, "count": total, "end": not more}
        if more:
            nxt["pn"] = num + 1
    requests = [PageRequest(url=with_query(url, **nxt, **unsigned), parser="bilibili.comments")] if nxt else []
    if posts:
        cursor["newest"] = max(p.published_at for p in posts)
        cursor["oldest"] = min(p.published_at for p in posts)
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="bilibili.comments", cursor=cursor)
