"""Heimao 黑猫投诉 (tousu.sina.com.cn): the search/list API JSON, complaint pages, and scraped-text dumps.

Every complaint is kind "complaint", post_id = its sn (投诉编号), with extra {object, demands, status, sn}.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import (
    as_str,
    html_document,
    int_param,
    ip_region_in,
    load_json,
    looks_blocked,
    query,
    reject,
    require_complete_html,
    with_query,
)
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import element_text, tidy, to_text

SOURCE = "heimao"
BASE = "https://tousu.sina.com.cn"
_SN = re.compile(r"/complaint/view/(\d+)")
_DATETIME = re.compile(r"(\d{4}[-年/]\d{1,2}[-月/]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?)")


def complaint_url(sn: str) -> str:
    return f"{BASE}/complaint/view/{sn}/"


def _complaint(sn: str, text: str, published: datetime, *, title: str = "", obj: str = "", demands: str = "",
               status: str = "", author: str = "", author_id: str = "", keyword: str = "", likes: int = 0,
               comments: int = 0, region: str = "", issue: str = "") -> Post:
    extra = {"object": obj, "demands": demands, "status": status, "sn": sn}
    if issue:
        extra["issue"] = issue
    return Post(platform="heimao", post_id=sn, text=text, published_at=published, url=complaint_url(sn),
                kind="complaint", title=title, author_name=author, author_id=author_id, keyword=keyword,
                likes=likes, comments=comments, ip_region=region, extra=extra)


def parse_list(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """api/index/s?keywords=&page= (and company lists): result.data.lists[].main, paged by result.data.pager."""
    meta = meta or {}
    data = load_json(body, url, "heimao list API")
    result = data.get("result") if isinstance(data, Mapping) else None
    if not isinstance(result, Mapping):
        raise ParseError(f"{url}: changed layout, no 'result' object in heimao list API JSON")
    status = result.get("status") if isinstance(result.get("status"), Mapping) else {}
    code, msg = status.get("code", 0), as_str(status.get("msg"))
    page = int_param(url, "page", 1)
    if code not in (0, "0"):
        if looks_blocked(msg) or "签名" in msg or "signature" in msg.lower() or str(code) in ("403", "-1"):
            raise Blocked(f"{url}: heimao refused the request (code={code}, msg={msg!r})")
        return ParseResult(page_kind="heimao.list", cursor={"end": True, "reason": msg or f"code={code}", "page": page})
    inner = result.get("data") if isinstance(result.get("data"), Mapping) else None
    if inner is None or not isinstance(inner.get("lists", []), list):
        raise ParseError(f"{url}: changed layout, no result.data.lists in heimao list API JSON")
    keyword = as_str(meta.get("keyword") or query(url).get("keywords"))
    posts: list[Post] = []
    requests: list[PageRequest] = []
    rejected: list[Rejected] = []
    for item in inner.get("lists") or []:
        main = item.get("main") if isinstance(item, Mapping) else None
        if not isinstance(main, Mapping):
            rejected.append(reject(SOURCE, "list item without main", url, item, now))
            continue
        sn = as_str(main.get("sn")) or (_SN.search(as_str(main.get("url"))) or [None, ""])[1]
        text = to_text(as_str(main.get("summary") or main.get("content")))
        title = to_text(as_str(main.get("title")))
        if not sn or not (text or title):
            rejected.append(reject(SOURCE, "complaint without sn or text", url, main, now))
            continue
        try:
            published = parse_date(main.get("timestamp") or main.get("created_at"), now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"complaint {sn}: {exc}", url, main, now))
            continue
        author = item.get("author") if isinstance(item.get("author"), Mapping) else {}
        posts.append(_complaint(
            sn, text or title, published, title=title, obj=to_text(as_str(main.get("cotitle"))),
            demands=to_text(as_str(main.get("appeal"))), status=_status(main), keyword=keyword,
            author=as_str(author.get("title") or author.get("name")), author_id=as_str(author.get("wbid") or main.get("uid")),
            likes=parse_count(main.get("upvote_amount")), comments=parse_count(main.get("comment_amount")),
            region=as_str(main.get("location")), issue=to_text(as_str(main.get("issue"))),
        ))
        requests.append(PageRequest(url=complaint_url(sn), parser="heimao.complaint", meta={"keyword": keyword}))
    pager = inner.get("pager") if isinstance(inner.get("pager"), Mapping) else {}
    current = parse_count(pager.get("current")) or page
    last = parse_count(pager.get("page_amount"))
    next_page = current + 1 if posts and current < last else None
    if next_page:
        requests.append(PageRequest(url=with_query(url, page=next_page), parser="heimao.list", meta={"keyword": keyword}))
    cursor: dict[str, Any] = {"page": current, "next_page": next_page, "total": pager.get("item_count")}
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="heimao.list", cursor=cursor)


_STATUS = {"1": "待分配", "2": "处理中", "3": "已回复", "4": "已完成", "5": "已完成", "6": "待评价"}


def _status(main: Mapping[str, Any]) -> str:
    text = as_str(main.get("status_desc") or main.get("status_text"))
    return text or _STATUS.get(as_str(main.get("status")), as_str(main.get("status")))


def parse_complaint(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """A complaint page /complaint/view/<sn>/, or a scraped dump (JSON list of {title, content, href} or CSV)."""
    meta = meta or {}
    text = decode(body).lstrip("\ufeff").strip()
    if text.startswith("["):
        return _scraped_json(body, url, now, meta)
    if text.startswith("date,") or text.startswith("\"date\","):
        return _scraped_csv(text, url, now, meta)
    if not text.startswith("<"):
        raise ParseError(f"{url}: not a heimao complaint page or scraped dump (starts {text[:40]!r})")
    return _page(text, url, now, meta)


def _field(doc: Any, label: str) -> str:
    for li in doc.xpath(f"//li[label[contains(., '{label}')]] | //li[span[contains(., '{label}')]]"):
        value = tidy(li.text_content())
        return value.split("：", 1)[-1].split(":", 1)[-1].strip() if label in value else value
    return ""


def _page(text: str, url: str, now: datetime, meta: Mapping[str, Any]) -> ParseResult:
    require_complete_html(text, url)
    doc = html_document(text, url, "a heimao complaint page")
    title_els = doc.xpath("//h1[contains(@class,'article')] | //div[contains(@class,'ts-d-question')]//h1")
    sn = _field(doc, "投诉编号") or (_SN.search(url) or [None, ""])[1]
    if not title_els or not sn:
        page_text = tidy(" ".join(doc.xpath("//body//text()[not(ancestor::script)]")))[:300]
        if looks_blocked(page_text) or "passport.weibo" in text[:20000]:
            raise Blocked(f"{url}: heimao showed a login/captcha page")
        if "不存在" in page_text or "已删除" in page_text:
            return ParseResult(page_kind="heimao.complaint", cursor={"end": True, "reason": "投诉不存在或已删除"})
        raise ParseError(f"{url}: changed layout, no h1.article title or 投诉编号 on heimao complaint page")
    steps = doc.xpath("//div[contains(@class,'ts-d-item')] | //div[contains(@class,'ts-d-steplist')]/div")
    content_els = doc.xpath("//div[contains(@class,'ts-d-cont')] | //div[contains(@class,'complaint-cont')]")
    body_text = element_text(content_els[0]) if content_els else ""
    if not body_text:
        return ParseResult(page_kind="heimao.complaint",
                           rejected=[reject(SOURCE, f"complaint {sn} has no description", url, sn, now)])
    date_source = " ".join(steps[0].xpath(".//text()")) if steps else " ".join(doc.xpath("//body//text()"))
    found = _DATETIME.search(date_source)
    if not found:
        return ParseResult(page_kind="heimao.complaint",
                           rejected=[reject(SOURCE, f"complaint {sn} has no date", url, sn, now)])
    names = doc.xpath("//*[contains(@class,'u-name')]")
    post = _complaint(
        sn, body_text, parse_date(found.group(1), now), title=element_text(title_els[0]),
        obj=_field(doc, "投诉对象"), demands=_field(doc, "投诉要求"), status=_field(doc, "投诉进度"),
        issue=_field(doc, "投诉问题"), author=names[0].text_content().strip() if names else "",
        region=ip_region_in(" ".join(steps[0].xpath(".//text()")) if steps else ""),
        keyword=as_str(meta.get("keyword")),
    )
    return ParseResult(posts=[post], page_kind="heimao.complaint")


_MARK = re.compile(r"\[(投诉对象|投诉要求|投诉问题|投诉进度)\]\s*([^\n\[]*)")


def _scraped_json(body: bytes, url: str, now: datetime, meta: Mapping[str, Any]) -> ParseResult:
    items = load_json(body, url, "a scraped heimao list")
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, a scraped heimao list is a JSON array, got {type(items).__name__}")
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for item in items:
        if not isinstance(item, Mapping):
            rejected.append(reject(SOURCE, "scraped item is not an object", url, item, now))
            continue
        sn = (_SN.search(as_str(item.get("href"))) or [None, ""])[1]
        blob = as_str(item.get("title"))
        marks = dict(_MARK.findall(blob))
        lines = [line.strip() for line in blob.split("\n") if line.strip()]
        content = tidy(as_str(item.get("content")))
        date = _DATETIME.search(as_str(item.get("time")) or (lines[0] if lines else ""))
        if not sn or not content or not date:
            rejected.append(reject(SOURCE, "scraped complaint without sn, content or date", url, item, now))
            continue
        name = lines[1] if len(lines) > 1 and "发起" in lines[0] else as_str(item.get("keyword"))
        posts.append(_complaint(sn, content, parse_date(date.group(1), now), title=name,
                                obj=marks.get("投诉对象", "").strip(), demands=marks.get("投诉要求", "").strip(),
                                status=marks.get("投诉进度", "").strip(),
                                keyword=as_str(meta.get("keyword") or item.get("keyword"))))
    return ParseResult(posts=posts, rejected=rejected, page_kind="heimao.complaint")


def _scraped_csv(text: str, url: str, now: datetime, meta: Mapping[str, Any]) -> ParseResult:
    posts: list[Post] = []
    rejected: list[Rejected] = []
    for row in csv.DictReader(io.StringIO(text)):
        sn = (_SN.search(row.get("href") or "") or [None, ""])[1]
        summary = tidy(row.get("summary") or "")
        if not sn or not summary or not row.get("date"):
            rejected.append(reject(SOURCE, "scraped csv row without sn, summary or date", url, row, now))
            continue
        try:
            published = parse_date(row["date"], now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"complaint {sn}: {exc}", url, row, now))
            continue
        posts.append(_complaint(sn, summary, published, title=(row.get("title") or "").strip(),
                                obj=(row.get("object") or "").strip(), demands=(row.get("demands") or "").strip(),
                                keyword=as_str(meta.get("keyword"))))
    if not posts and not rejected:
        raise ParseError(f"{url}: empty scraped heimao CSV")
    return ParseResult(posts=posts, rejected=rejected, page_kind="heimao.complaint")
