"""Baidu Tieba (贴吧): keyword search result pages (/f/search/res) and a bar's thread list (/f?kw=).

Ids: a thread is `t<tid>` (thread ids and post ids are separate sequences); a floor (楼) and a floor
reply (楼中楼) keep their post id, with parent_id = the thread. Search hits and thread-list rows are
stubs (an excerpt, the date as the list shows it); the thread page, requested for each, replaces them.
Pages are decoded by their bytes (the search page is GBK, thread pages UTF-8). A 百度安全验证 / captcha /
login page raises Blocked; a bar or thread that is gone is an honest end (cursor end, reason).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urljoin

import lxml.html

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import as_str, int_param, looks_blocked, query, reject, require_complete_html, with_query
from .counts import parse_count
from .dates import SHANGHAI, DateError, parse_date
from .encoding import decode
from .html import element_text, tidy

SOURCE = "tieba"
BASE = "https://tieba.baidu.com"
_TID = re.compile(r"/p/(\d+)")
_PID = re.compile(r"[?&]pid=(\d+)")
_GONE = re.compile(r"(该贴已被删除|贴子已被删除|该贴已被屏蔽|贴吧404|本吧暂不开放|该吧不存在|抱歉，您访问的页面不存在)")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def thread_key(tid: object) -> str:
    return f"t{as_str(tid)}"


def thread_url(tid: str, page: int = 1) -> str:
    return f"{BASE}/p/{tid}" + (f"?pn={page}" if page > 1 else "")


def page_doc(body: bytes, url: str) -> tuple[str, Any]:
    """(title, document) of a Tieba HTML page or fragment; Blocked for a verification or login page."""
    text = decode(body)
    head = text[:20000]
    title_match = re.search(r"<title>(.*?)</title>", head, re.S | re.I)
    title = tidy(unescape(title_match.group(1))) if title_match else ""
    if ("百度安全验证" in head or "wappass.baidu.com" in head or "passport.baidu.com/v2/?login" in head
            or looks_blocked(title)):
        raise Blocked(f"{url}: tieba showed a verification/login page ({title!r})")
    if not text.strip():
        raise ParseError(f"{url}: empty body, expected a tieba page")
    require_complete_html(text, url)
    # the thread list of a bar is sent inside HTML comments (<code><!-- … --></code>) for the page's script
    return title, lxml.html.fromstring(text.replace("<!--", "").replace("-->", ""))


def gone(title: str, doc: Any, kind: str) -> ParseResult | None:
    """The honest "deleted / closed / not found" answer of a thread or bar page, else None."""
    page_text = tidy(" ".join(doc.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")))
    found = _GONE.search(title) or _GONE.search(page_text[:3000])
    if not found:
        return None
    return ParseResult(page_kind=kind, cursor={"end": True, "reason": found.group(1)})


def data_field(el: Any) -> Mapping[str, Any]:
    """The JSON of an element's data-field attribute ({} when absent or unreadable)."""
    raw = el.get("data-field") or ""
    try:
        value = json.loads(unescape(raw)) if raw.strip() else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, Mapping) else {}


def bar_name(text: str) -> str:
    """A bar as the watchlist names it: '中国电信吧' and '中国电信' are both '中国电信'."""
    text = tidy(text)
    return text[:-1] if text.endswith("吧") and len(text) > 1 else text


def list_date(text: str, now: datetime) -> datetime:
    """A date as lists show it: '12:34' (today), '8-6' (this year), '2024-08' (a month), or a full date."""
    text = text.strip()
    clock = _CLOCK.match(text)
    if clock:
        local = now.astimezone(SHANGHAI)
        day = local.replace(hour=int(clock.group(1)), minute=int(clock.group(2)), second=0, microsecond=0)
        return day - timedelta(days=1) if day > local + timedelta(minutes=5) else day
    month = _YEAR_MONTH.match(text)
    if month:
        return parse_date(f"{month.group(1)}-{month.group(2)}-01", now)
    return parse_date(text, now)


def _next_page(doc: Any, url: str, param: str) -> int | None:
    """The page number (value of `param`) the 下一页 link points at, if any."""
    for href in doc.xpath("//a[contains(concat(' ', normalize-space(@class), ' '), ' next ') or "
                          "starts-with(normalize-space(.), '下一页')]/@href"):
        value = query(urljoin(BASE, href)).get(param, "")
        if value.isdigit():
            return int(value)
    return None


def parse_search(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """/f/search/res?qw=&pn=: hits (div.s_post) -> stubs (a thread, or a reply floor `回复：…`) and thread pages."""
    meta = meta or {}
    title, doc = page_doc(body, url)
    items = doc.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' s_post ')]")
    pn = int_param(url, "pn", 1)
    if not items:
        if doc.xpath("//div[contains(@class,'s_post_list') or contains(@class,'search_noresult')]") or \
                "没有找到" in decode(body):
            return ParseResult(page_kind="tieba.search", cursor={"end": True, "reason": "no results", "pn": pn})
        raise ParseError(f"{url}: changed layout, no div.s_post or s_post_list in tieba search page ({title!r})")
    keyword = as_str(meta.get("keyword") or query(url).get("qw"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    threads: dict[str, list[str]] = {}
    for item in items:
        link = (item.xpath(".//span[contains(@class,'p_title')]//a[@href]") or [None])[0]
        href = link.get("href", "") if link is not None else ""
        tid = (link.get("data-tid") if link is not None else "") or (_TID.search(href) or [None, ""])[1]
        hit_title = element_text(link) if link is not None else ""
        date = " ".join(item.xpath(".//*[contains(@class,'p_date')]//text()")).strip()
        if not tid or not hit_title or not date:
            rejected.append(reject(SOURCE, "search hit without thread id, title or date", url, element_text(item), now))
            continue
        try:
            published = parse_date(date, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"search hit in thread {tid}: {exc}", url, element_text(item), now))
            continue
        excerpt = element_text(item.xpath(".//div[contains(@class,'p_content')]")[0]) \
            if item.xpath(".//div[contains(@class,'p_content')]") else ""
        bar = bar_name(" ".join(item.xpath(".//a[contains(@class,'p_forum')]//text()")))
        author = " ".join(item.xpath(".//a[starts-with(@href,'/home/main')]//text()")).strip()
        pid = (_PID.search(href) or [None, ""])[1]
        is_reply = hit_title.startswith(("回复：", "回复:"))
        extra = {"stub": True, "tid": tid, "bar": bar, "pid": pid}
        if is_reply and pid:
            post = Post(platform="tieba", post_id=pid, kind="comment", parent_id=thread_key(tid),
                        title=hit_title.split("：", 1)[-1].split(":", 1)[-1].strip(), text=excerpt or hit_title,
                        published_at=published, url=f"{thread_url(tid)}?pid={pid}#{pid}", author_name=author,
                        keyword=keyword, extra=extra)
        else:
            post = Post(platform="tieba", post_id=thread_key(tid), kind="post", title=hit_title,
                        text=f"{hit_title}\n{excerpt}" if excerpt else hit_title, published_at=published,
                        url=thread_url(tid), author_name=author, keyword=keyword, extra=extra)
        posts.append(post)
        threads.setdefault(tid, []).append(post.post_id)
    requests = [PageRequest(url=thread_url(tid), parser="tieba.thread",
                            meta={"keyword": keyword, "thread_id": tid, "hits": ids}) for tid, ids in threads.items()]
    next_pn = _next_page(doc, url, "pn")
    if next_pn is not None and next_pn > pn:
        requests.append(PageRequest(url=with_query(url, pn=next_pn), parser="tieba.search", meta={"keyword": keyword}))
    else:
        next_pn = None
    cursor: dict[str, Any] = {"pn": pn, "next_pn": next_pn}
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="tieba.search", cursor=cursor)


def parse_forum(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """/f?kw=&pn=: a bar's thread list (li.j_thread_list, newest reply first) -> thread stubs with their reply
    counts, a thread page request for each (meta thread_id, replies), and the next list page."""
    title, doc = page_doc(body, url)
    ended = gone(title, doc, "tieba.forum")
    if ended is not None:
        return ended
    items = doc.xpath("//li[contains(concat(' ', normalize-space(@class), ' '), ' j_thread_list ')]")
    pn = int_param(url, "pn", 0)
    bar = bar_name(" ".join(doc.xpath("(//a[contains(@class,'card_title_fname')])[1]//text()")) or
                   query(url).get("kw", ""))
    if not items:
        if doc.xpath("//*[@id='thread_list']"):
            return ParseResult(page_kind="tieba.forum", cursor={"end": True, "reason": "no threads", "pn": pn})
        raise ParseError(f"{url}: changed layout, no li.j_thread_list or #thread_list in tieba bar page ({title!r})")
    posts: list[Post] = []
    rejected: list[Rejected] = []
    requests: list[PageRequest] = []
    for item in items:
        field = data_field(item)
        tid = as_str(field.get("id") or item.get("data-tid"))
        links = item.xpath(".//a[contains(@class,'j_th_tit')]")
        thread_title = (links[0].get("title") or element_text(links[0])).strip() if links else ""
        if not tid.isdigit() or not thread_title:
            rejected.append(reject(SOURCE, "thread row without id or title", url, element_text(item)[:300], now))
            continue
        created = " ".join(item.xpath(".//*[contains(@class,'is_show_create_time')]//text()")).strip()
        last = " ".join(item.xpath(".//*[contains(@class,'threadlist_reply_date')]//text()")).strip()
        try:
            published = list_date(created or last, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"thread {tid}: {exc}", url, element_text(item)[:300], now))
            continue
        abstract = " ".join(element_text(a) for a in item.xpath(".//div[contains(@class,'threadlist_abs')]")).strip()
        replies = parse_count(field.get("reply_num"))
        extra = {"stub": True, "date_estimated": True, "tid": tid, "bar": bar, "reply_num": replies,
                 "last_reply": last, "first_pid": as_str(field.get("first_post_id"))}
        if field.get("is_top"):
            extra["top"] = True
        posts.append(Post(platform="tieba", post_id=thread_key(tid), kind="post", title=thread_title,
                          text=f"{thread_title}\n{abstract}" if abstract else thread_title, published_at=published,
                          url=thread_url(tid), comments=replies,
                          author_name=as_str(field.get("author_nickname") or field.get("author_name")), extra=extra))
        requests.append(PageRequest(url=thread_url(tid), parser="tieba.thread",
                                    meta={"thread_id": tid, "replies": replies, "last_reply": last}))
    next_pn = _next_page(doc, url, "pn")
    if next_pn is not None and next_pn > pn and posts:
        requests.append(PageRequest(url=with_query(url, pn=next_pn), parser="tieba.forum", meta={}))
    else:
        next_pn = None
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="tieba.forum",
                       cursor={"pn": pn, "next_pn": next_pn, "bar": bar})
