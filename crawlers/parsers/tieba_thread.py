"""Baidu Tieba thread pages (/p/<tid>?pn=) with their floors, and the floor replies (楼中楼): the totalComment
JSON of a thread page and the /p/comment?tid=&pid=&pn= fragment of one floor's further replies.

The first floor is the thread itself (`t<tid>`, kind post, with the title); the other floors and the floor
replies are kind comment with parent_id `t<tid>` and keep their post id; extra says the floor number and,
for a floor reply, the floor it answers (floor_pid). Author, time and IP属地 are read from each floor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import as_list, as_map, as_str, int_param, ip_region_in, load_json, looks_blocked, query, reject
from .counts import parse_count
from .dates import DateError, parse_date
from .html import element_text, tidy, to_text
from .tieba import BASE, SOURCE, bar_name, data_field, gone, page_doc, thread_key, thread_url

_TID = re.compile(r"/p/(\d+)")
_DATE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2})")
_FLOOR = re.compile(r"(\d+)\s*楼")
_BAR_TITLE = re.compile(r"【([^】]+)】_百度贴吧\s*$")
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"


def replies_url(tid: str, fid: str, page: int) -> str:
    return f"{BASE}/p/totalComment?tid={tid}&fid={fid}&pn={page}&see_lz=0"


def comment_url(tid: str, pid: str, page: int) -> str:
    return f"{BASE}/p/comment?tid={tid}&pid={pid}&pn={page}"


def _floor_post(el: Any, tid: str, title: str, bar: str, url: str, now: datetime) -> Post | Rejected | None:
    """One div.l_post; None for an advertisement floor (no post id in its data-field)."""
    field = data_field(el)
    content, author = as_map(field.get("content")), as_map(field.get("author"))
    pid = as_str(content.get("post_id"))
    if not pid:
        return None
    body = el.xpath(f".//div[{_CLASS.format('d_post_content')}]") or el.xpath(f".//*[@id='post_content_{pid}']")
    text = element_text(body[0]) if body else to_text(as_str(content.get("content")))
    tail = " ".join(el.xpath(f".//*[{_CLASS.format('post-tail-wrap')} or {_CLASS.format('core_reply_tail')}]//text()"))
    date = _DATE.search(tail) or _DATE.search(as_str(content.get("date")))
    floor_no = parse_count(content.get("post_no")) or int((_FLOOR.search(tail) or [None, "0"])[1])
    if not text or not date:
        return reject(SOURCE, f"floor {pid} of thread {tid} without text or date", url, tidy(tail)[:200], now)
    try:
        published = parse_date(date.group(1), now)
    except DateError as exc:
        return reject(SOURCE, f"floor {pid}: {exc}", url, date.group(1), now)
    names = el.xpath(f".//a[{_CLASS.format('p_author_name')}]")
    name = names[0].text_content().strip() if names else as_str(author.get("user_nickname") or author.get("user_name"))
    common = {"published_at": published, "author_id": as_str(author.get("user_id")), "author_name": name,
              "comments": parse_count(content.get("comment_num")), "ip_region": ip_region_in(tail),
              "extra": {"floor": floor_no, "pid": pid, "bar": bar}}
    if floor_no == 1:
        return Post(platform="tieba", post_id=thread_key(tid), kind="post", title=title, text=f"{title}\n{text}",
                    url=thread_url(tid), **common)  # type: ignore[arg-type]
    return Post(platform="tieba", post_id=pid, kind="comment", title=title, text=text, parent_id=thread_key(tid),
                url=f"{thread_url(tid)}?pid={pid}#{pid}", **common)  # type: ignore[arg-type]


def _page_thread_id(floors: list[Any]) -> str:
    """The thread id a saved page carries itself (its floors' data-field), for pages read without their URL."""
    for el in floors:
        tid = as_str(as_map(data_field(el).get("content")).get("thread_id"))
        if tid.isdigit():
            return tid
    return ""


def parse_thread(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """A thread page: its floors, the next page, and the page's floor replies (totalComment) when any floor has
    some. Cursor: thread_id, page, pages, replies (the page's 回复贴 count), fid, bar."""
    meta = meta or {}
    title, doc = page_doc(body, url)
    ended = gone(title, doc, "tieba.thread")
    if ended is not None:
        return ended
    floors = doc.xpath(f"//div[{_CLASS.format('l_post')}]")
    tid = as_str(meta.get("thread_id")) or (_TID.search(url) or [None, ""])[1] or _page_thread_id(floors)
    if not floors or not tid:
        raise ParseError(f"{url}: changed layout, no div.l_post floors or thread id in tieba thread page ({title!r})")
    heads = doc.xpath(f"//*[{_CLASS.format('core_title_txt')}]")
    bar_match = _BAR_TITLE.search(title)
    thread_title = ((heads[0].get("title") or heads[0].text_content()).strip() if heads else
                    _BAR_TITLE.sub("", title).strip())
    bar = bar_name(" ".join(doc.xpath(f"(//a[{_CLASS.format('card_title_fname')}])[1]//text()")) or
                   (bar_match.group(1) if bar_match else ""))
    counts = [parse_count(t) for t in doc.xpath("//li[contains(@class,'l_reply_num')]/span[contains(@class,'red')]"
                                                "/text()")]
    replies, pages = (counts + [0, 0])[:2]
    page = int_param(url, "pn", 1)
    pages = max(pages, page)
    posts: list[Post] = []
    rejected: list[Rejected] = []
    fid, with_replies, ads = "", False, 0
    for el in floors:
        result = _floor_post(el, tid, thread_title, bar, url, now)
        if result is None:
            ads += 1
        elif isinstance(result, Rejected):
            rejected.append(result)
        else:
            posts.append(result)
            with_replies = with_replies or result.comments > 0
        fid = fid or as_str(as_map(data_field(el).get("content")).get("forum_id"))
    requests: list[PageRequest] = []
    if page < pages:
        requests.append(PageRequest(url=thread_url(tid, page + 1), parser="tieba.thread", meta={"thread_id": tid}))
    if with_replies:
        requests.append(PageRequest(url=replies_url(tid, fid, page), parser="tieba.replies", meta={"thread_id": tid}))
    cursor: dict[str, Any] = {"thread_id": tid, "page": page, "pages": pages, "replies": replies, "fid": fid,
                              "bar": bar}
    if ads:
        cursor["ads"] = ads
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="tieba.thread", cursor=cursor)


def _reply_post(item: Mapping[str, Any], tid: str, pid: str, users: Mapping[str, Any], url: str,
                now: datetime) -> Post | Rejected:
    cid = as_str(item.get("comment_id"))
    text = to_text(as_str(item.get("content")))
    if not cid or not text:
        return reject(SOURCE, f"floor reply {cid or '?'} of floor {pid} without id or text", url, item, now)
    try:
        published = parse_date(item.get("now_time"), now)
    except DateError as exc:
        return reject(SOURCE, f"floor reply {cid}: {exc}", url, item, now)
    uid = as_str(item.get("user_id"))
    user = as_map(users.get(uid))
    name = as_str(item.get("show_nickname") or user.get("user_nickname") or item.get("username") or
                  user.get("user_name"))
    return Post(platform="tieba", post_id=cid, kind="comment", text=text, published_at=published,
                parent_id=thread_key(tid), url=f"{thread_url(tid)}?pid={pid}&cid={cid}#{cid}", author_id=uid,
                author_name=name, extra={"floor_pid": pid, "floor_reply": True})


def parse_replies(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """p/totalComment?tid=&pn=: data.comment_list {floor pid: {comment_num, comment_info[]}} (a list when no floor
    has replies); a floor with more replies than shown gets its /p/comment pages requested from page 2."""
    obj = load_json(body, url, "tieba totalComment")
    errno = obj.get("errno") if isinstance(obj, Mapping) else None
    if not isinstance(errno, int) or isinstance(errno, bool):
        raise ParseError(f"{url}: changed layout, no numeric errno in tieba totalComment JSON")
    message = as_str(obj.get("errmsg"))
    if errno != 0:
        if looks_blocked(message) or errno in (110001, 220034, 340011):
            raise Blocked(f"{url}: tieba refused floor replies (errno={errno}, {message!r})")
        return ParseResult(page_kind="tieba.replies", cursor={"end": True, "reason": message or f"errno={errno}"})
    data = as_map(obj.get("data"))
    floors = data.get("comment_list")
    if not isinstance(floors, Mapping | list):
        raise ParseError(f"{url}: changed layout, no data.comment_list in tieba totalComment JSON")
    tid = as_str((meta or {}).get("thread_id") or query(url).get("tid"))
    users = as_map(data.get("user_list"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    requests: list[PageRequest] = []
    for pid, floor in (floors.items() if isinstance(floors, Mapping) else ()):
        shown = as_list(as_map(floor).get("comment_info"))
        for item in shown:
            result = _reply_post(as_map(item), tid or as_str(as_map(item).get("thread_id")), as_str(pid), users,
                                 url, now)
            (posts if isinstance(result, Post) else rejected).append(result)  # type: ignore[arg-type]
        if parse_count(as_map(floor).get("comment_num")) > len(shown) and tid:
            requests.append(PageRequest(url=comment_url(tid, as_str(pid), 2), parser="tieba.comment",
                                        meta={"thread_id": tid}))
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="tieba.replies",
                       cursor={"thread_id": tid, "page": int_param(url, "pn", 1), "floors": len(floors)})


def parse_comment(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """/p/comment?tid=&pid=&pn=: one page of a floor's replies (li.lzl_single_post), paged by the pager's
    total_page (data-field) or its 下一页 link. The pager closes the fragment: a fragment without one is an error."""
    params = query(url)
    tid, pid, page = as_str((meta or {}).get("thread_id") or params.get("tid")), params.get("pid", ""), \
        int_param(url, "pn", 1)
    _, doc = page_doc(body, url)
    items = doc.xpath(f"//li[{_CLASS.format('lzl_single_post')}]")
    pager = doc.xpath(f"//li[{_CLASS.format('lzl_li_pager')}]")
    if not tid or not pid:
        raise ParseError(f"{url}: a floor-reply page names neither its thread nor its floor: pass its url "
                         "(/p/comment?tid=…&pid=…)")
    if not pager:  # the fragment always ends with its pager: without it the page changed or was cut short
        raise ParseError(f"{url}: changed layout or truncated, no li.lzl_li_pager in tieba floor-reply page")
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for li in items:
        field = data_field(li)
        cid = as_str(field.get("spid"))
        content = li.xpath(f".//span[{_CLASS.format('lzl_content_main')}]")
        text = element_text(content[0]) if content else ""
        when = " ".join(li.xpath(f".//span[{_CLASS.format('lzl_time')}]//text()")).strip()
        if not cid or not text or not when:
            rejected.append(reject(SOURCE, f"floor reply {cid or '?'} without id, text or time", url,
                                   element_text(li)[:300], now))
            continue
        try:
            published = parse_date(when, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"floor reply {cid}: {exc}", url, when, now))
            continue
        posts.append(Post(platform="tieba", post_id=cid, kind="comment", text=text, published_at=published,
                          parent_id=thread_key(tid), url=f"{thread_url(tid)}?pid={pid}&cid={cid}#{cid}",
                          author_name=as_str(field.get("showname") or field.get("user_name")),
                          extra={"floor_pid": pid, "floor_reply": True}))
    total = parse_count(data_field(pager[0]).get("total_page")) if pager else 0
    if not total and doc.xpath("//a[starts-with(normalize-space(.), '下一页')]"):
        total = page + 1
    next_page = page + 1 if items and page < total else None
    requests = [PageRequest(url=comment_url(tid, pid, next_page), parser="tieba.comment",
                            meta={"thread_id": tid})] if next_page else []
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="tieba.comment",
                       cursor={"thread_id": tid, "pid": pid, "page": page, "next_page": next_page})
