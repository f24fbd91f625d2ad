"""weibo.com pages: ajax/statuses/mymblog JSON, the 2017 s.weibo.com search HTML and the aj/v6
comment/repost JSON whose data.html holds the list (today's s.weibo.com card-wrap markup is read too)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import lxml.html

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import (
    as_str,
    int_param,
    load_json,
    looks_blocked,
    query,
    reject,
    require,
    require_complete_html,
    with_query,
)
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import element_text, tidy
from .weibo_mblog import check_envelope, mblog_post

SOURCE = "weibo"


def parse_mymblog(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """weibo.com/ajax/statuses/mymblog?uid=&page=: data.list of mblogs (text HTML + text_raw, region_name)."""
    data = load_json(body, url, "weibo.com ajax/statuses/mymblog")
    reason = check_envelope(data, url)
    page = int_param(url, "page", 1)
    if reason is not None:
        return ParseResult(page_kind="weibo.mymblog", cursor={"end": True, "reason": reason, "page": page})
    items = require(data, "data.list", url, "weibo.com ajax/statuses/mymblog")
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, data.list is not a list")
    posts: list[Post] = []
    requests: list[PageRequest] = []
    rejected: list[Rejected] = []
    for item in items:
        if not isinstance(item, Mapping):
            rejected.append(reject(SOURCE, "mblog is not an object", url, item, now))
            continue
        p, r, j = mblog_post(item, url, now, source=SOURCE)
        posts += p
        requests += r
        rejected += j
    next_page = page + 1 if items else None
    if next_page:
        requests.append(PageRequest(url=with_query(url, page=next_page, since_id=data["data"].get("since_id") or None),
                                    parser="weibo.mymblog"))
    cursor: dict[str, Any] = {"page": page, "next_page": next_page, "since_id": data["data"].get("since_id", "")}
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.mymblog", cursor=cursor)


def parse_web2017(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """s.weibo.com search HTML, or aj/v6 comment / repost JSON ({code: "100000", data: {html}})."""
    meta = meta or {}
    text = decode(body).lstrip()
    if text.startswith("{"):
        data = load_json(body, url, "weibo.com aj/v6 JSON")
        code = as_str(data.get("code"))
        if code != "100000":
            msg = as_str(data.get("msg"))
            if looks_blocked(msg) or code in ("100001", "100002"):
                raise Blocked(f"{url}: weibo.com refused (code={code}, msg={msg!r})")
            return ParseResult(page_kind="weibo.web2017", cursor={"end": True, "reason": msg or f"code={code}"})
        html = require(data, "data.html", url, "weibo.com aj/v6 JSON")
        return _list_fragment(str(html), data["data"], url, now, meta)
    if "feed_list_item" not in text and "card-wrap" not in text:
        if looks_blocked(text[:20000]):
            raise Blocked(f"{url}: s.weibo.com showed a login/captcha page")
        if "noresult" in text or "抱歉，未找到" in text:
            return ParseResult(page_kind="weibo.web2017", cursor={"end": True, "reason": "no results"})
        raise ParseError(f"{url}: changed layout, no feed_list_item in s.weibo.com search HTML")
    return _search_html(text, url, now, meta)


def _clean(el: Any) -> Any:
    """Drop icon-font glyphs and the "查看图片" photo widgets before reading text."""
    for junk in el.xpath(".//i[contains(@class,'ficon')] | .//a[@action-type='widget_photoview']"):
        junk.drop_tree()
    return el


def _card_id(usercard: str) -> str:
    match = re.search(r"(?:^|&)id=(\d+)", usercard)
    return match.group(1) if match else ""


def _num(el: Any, xpath: str) -> int:
    found = el.xpath(xpath)
    return parse_count(" ".join(f if isinstance(f, str) else f.text_content() for f in found)) if found else 0


def _date(el: Any, now: datetime) -> datetime:
    for a in el.xpath(".//a[@node-type='feed_list_item_date'] | .//*[contains(@class,'from')]/a[1]"):
        stamp = a.get("date")
        if stamp and stamp.isdigit():
            return parse_date(stamp, now)
        return parse_date(a.text_content().strip(), now)
    raise DateError("no date link")


def _search_html(text: str, url: str, now: datetime, meta: Mapping[str, Any]) -> ParseResult:
    require_complete_html(text, url)
    doc = lxml.html.fromstring(text)
    keyword = as_str(meta.get("keyword") or query(url).get("q"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for item in doc.xpath("//div[@action-type='feed_list_item' and @mid]"):
        mid = item.get("mid")
        body = (item.xpath(".//p[@node-type='feed_list_content_full']") or
                item.xpath(".//p[@node-type='feed_list_content']"))
        content = element_text(_clean(body[0])) if body else ""
        content = re.sub(r"\s*收起全文d?\s*$", "", content)
        if not content:
            rejected.append(reject(SOURCE, f"search item {mid} has no text", url, mid, now))
            continue
        try:
            published = _date(item, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"search item {mid}: {exc}", url, mid, now))
            continue
        names = item.xpath(".//a[@nick-name][1]")
        name = names[0].get("nick-name", "") if names else ""
        card = names[0].get("usercard", "") if names else ""
        posts.append(Post(
            platform="weibo", post_id=mid, text=content, published_at=published,
            url=f"https://m.weibo.cn/detail/{mid}", author_name=name,
            author_id=_card_id(card),
            author_verified=bool(item.xpath(".//*[contains(@class,'icon_approve')]")),
            reposts=_num(item, ".//a[@action-type='feed_list_forward']//em"),
            comments=_num(item, ".//a[@action-type='feed_list_comment']//em"),
            likes=_num(item, ".//a[@action-type='feed_list_like']//em"), keyword=keyword,
        ))
    page = int_param(url, "page", 1)
    nexts = doc.xpath("//a[contains(@class,'next')]/@href")
    requests = [PageRequest(url=with_query(url, page=page + 1), parser="weibo.web2017", meta={"keyword": keyword})]
    cursor: dict[str, Any] = {"page": page, "next_page": page + 1 if nexts else None}
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    return ParseResult(posts=posts, requests=requests if nexts else [], rejected=rejected,
                       page_kind="weibo.web2017", cursor=cursor)


def _list_fragment(html: str, data: Mapping[str, Any], url: str, now: datetime,
                   meta: Mapping[str, Any]) -> ParseResult:
    """The list_li entries of an aj/v6 comment (comment_id) or repost (mid) fragment."""
    doc = lxml.html.fragment_fromstring(html, create_parent="div") if html.strip() else None
    params = query(url)
    parent_id = as_str(meta.get("parent_id") or params.get("id") or params.get("mid"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    items = doc.xpath(".//div[contains(@class,'list_li') and (@comment_id or @mid)]") if doc is not None else []
    for item in items:
        own_id = item.get("comment_id") or item.get("mid")
        kind = "comment" if item.get("comment_id") else "repost"
        text_div = item.xpath(".//div[contains(@class,'WB_text')][1]")
        if not text_div:
            rejected.append(reject(SOURCE, f"{kind} {own_id} without WB_text", url, own_id, now))
            continue
        spans = text_div[0].xpath("./span[@node-type='text']")
        raw = element_text(_clean(spans[0])) if spans else element_text(_clean(text_div[0]))
        author = text_div[0].xpath("./a[@usercard][1]")
        author_name = author[0].text_content().strip() if author else ""
        if not spans and author_name and raw.startswith(author_name):
            raw = raw[len(author_name):].lstrip("：: ")
        raw = tidy(raw)
        if not raw:
            rejected.append(reject(SOURCE, f"{kind} {own_id} has no text", url, own_id, now))
            continue
        try:
            published = _list_date(item, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"{kind} {own_id}: {exc}", url, own_id, now))
            continue
        card = author[0].get("usercard", "") if author else ""
        posts.append(Post(
            platform="weibo", post_id=own_id, text=raw, published_at=published, kind=kind, parent_id=parent_id,
            url=f"https://m.weibo.cn/detail/{parent_id}" if parent_id else "", author_name=author_name,
            author_id=_card_id(card),
            likes=_num(item, ".//a[@action-type='fl_like']//em[last()]"),
        ))
    requests: list[PageRequest] = []
    page_info = data.get("page") if isinstance(data.get("page"), Mapping) else {}
    cursor: dict[str, Any] = {"count": data.get("count")}
    if page_info:
        current, total = parse_count(page_info.get("pagenum")), parse_count(page_info.get("totalpage"))
        cursor.update(page=current, next_page=current + 1 if current < total else None)
        if current < total:
            requests.append(PageRequest(url=with_query(url, page=current + 1), parser="weibo.web2017",
                                        meta={"parent_id": parent_id}))
    loading = doc.xpath(".//*[@node-type='comment_loading']/@action-data") if doc is not None else []
    if loading:
        more = dict(part.split("=", 1) for part in loading[0].split("&") if "=" in part)
        cursor.update(max_id=more.get("root_comment_max_id"))
        requests.append(PageRequest(url=with_query("https://weibo.com/aj/v6/comment/big?ajwvr=6", **more),
                                    parser="weibo.web2017", meta={"parent_id": parent_id}))
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.web2017", cursor=cursor)


def _list_date(item: Any, now: datetime) -> datetime:
    links = item.xpath(".//a[@node-type='feed_list_item_date']")
    if links:
        stamp = links[0].get("date")
        return parse_date(stamp if stamp and stamp.isdigit() else links[0].text_content().strip(), now)
    froms = item.xpath(".//div[contains(@class,'WB_from')]")
    if froms:
        return parse_date(froms[0].text_content().strip().split("来自")[0].strip(), now)
    raise DateError("no WB_from date")
