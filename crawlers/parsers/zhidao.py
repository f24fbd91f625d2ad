"""Baidu Zhidao: /search?word=&pn= result pages and /question/<id>.html pages (2013 and today's markup).

Pages are decoded by their bytes (real pages declare GBK but are UTF-8 and vice versa).
Ids: a question is `q<qid>`, an answer keeps Zhidao's answer id with parent_id `q<qid>`
(the two are separate, overlapping number sequences). A "信息提示" page ("该问题可能已经失效")
is the site's honest answer that a question is gone: an empty result with cursor end/reason;
one that asks for a captcha or login raises Blocked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import (
    as_str,
    html_document,
    int_param,
    ip_region_in,
    looks_blocked,
    query,
    reject,
    require_complete_html,
    with_query,
)
from .counts import parse_count
from .dates import DateError, parse_date
from .encoding import decode
from .html import element_text, tidy

SOURCE = "zhidao"
BASE = "https://zhidao.baidu.com"
_DATE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2})?)")
_QID = re.compile(r"/question/(\d+)\.html")
_CONTEXT = re.compile(r"F\.context\('answers'\)\['(\d+)'\]\s*=\s*\{uid:\"(\d*)\"[^}]*?userName:\"([^\"]*)\"")


def question_key(qid: str) -> str:
    return f"q{qid}"


def _doc(body: bytes, url: str) -> tuple[str, Any]:
    text = decode(body)
    title = re.search(r"<title>(.*?)</title>", text[:5000], re.S | re.I)
    page_title = tidy(title.group(1)) if title else ""
    if looks_blocked(page_title) or "wappass.baidu.com" in text[:5000] or "百度安全验证" in text[:20000]:
        raise Blocked(f"{url}: zhidao showed a captcha/verification page ({page_title!r})")
    require_complete_html(text, url)
    return page_title, html_document(text, url, "a zhidao page")


def _info_page(page_title: str, doc: Any, kind: str) -> ParseResult:
    body_text = tidy(" ".join(doc.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]")))
    found = re.search(r"(知道宝贝找不到问题了|该问题可能已经失效|问题不存在|已被删除|[^。！!]{0,30}(?:失效|不存在|删除)[^。！!]{0,10})",
                      body_text)
    message = found.group(1) if found else page_title
    return ParseResult(page_kind=kind, cursor={"end": True, "reason": f"信息提示: {message}"})


def parse_search(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """Result list -> question stubs (title + excerpt), question page requests and the next page."""
    meta = meta or {}
    page_title, doc = _doc(body, url)
    if "信息提示" in page_title:
        return _info_page(page_title, doc, "zhidao.search")
    items = doc.xpath("//dl[contains(@class,'result-item')] | //div[contains(@class,'list')]/dl[dt]")
    keyword = as_str(meta.get("keyword") or query(url).get("word"))
    if not items:
        if doc.xpath("//*[contains(@class,'no-result') or contains(@class,'noresult')]") or "没有找到" in page_title:
            return ParseResult(page_kind="zhidao.search", cursor={"end": True, "reason": "no results", "next_pn": None})
        raise ParseError(f"{url}: changed layout, no result items (dl.result-item / .list dl) in zhidao search page")
    posts: list[Post] = []
    requests: list[PageRequest] = []
    rejected: list[Rejected] = []
    ads = 0
    for item in items:
        links = item.xpath(".//dt//a[@href]")
        match = _QID.search(links[0].get("href", "")) if links else None
        if not match and ("type:ad" in item.get("data-fb", "") or (links and "zhidao.baidu.com" not in links[0].get(
                "href", "") and not links[0].get("href", "").startswith("/"))):
            ads += 1  # an advertisement in the result list, not a question
            continue
        if not match:
            rejected.append(reject(SOURCE, "search result without question link", url, element_text(item), now))
            continue
        qid = match.group(1)
        title = element_text(links[0])
        excerpt = tidy(" ".join(element_text(dd) for dd in item.xpath(".//dd[contains(@class,'info') or "
                                                                          "contains(@class,'answer') or contains(@class,'summary')]")))
        excerpt = tidy(re.sub(r"(?:^|\s)(?:问|答)\s*[:：]\s*", "\n", excerpt))
        meta_text = " ".join(item.xpath(".//dd//text()"))
        date = _DATE.search(meta_text)
        if not title or not date:
            rejected.append(reject(SOURCE, f"search result {qid} without title or date", url, meta_text[:200], now))
            continue
        answers = re.search(r"(\d+)\s*个回答", meta_text)
        # the list shows the best answer's author (回答者), day and 赞 count, not the asker's; the question page,
        # requested below, replaces this stub with the real question (same post_id)
        answerer = item.xpath(".//*[contains(@class,'reply-uname')]//a | .//a[contains(@class,'mr-8')]")
        agree = parse_count(" ".join(item.xpath(".//*[contains(@class,'agree-num')]//text() | "
                                                ".//i[contains(@class,'i-agree')]/following-sibling::span[1]//text()")))
        link = f"{BASE}/question/{qid}.html"
        extra: dict[str, Any] = {"stub": True, "native_id": qid, "date_estimated": True, "answer_likes": agree,
                                 "answerer": answerer[0].text_content().strip() if answerer else ""}
        posts.append(Post(
            platform="zhidao", post_id=question_key(qid), kind="question", title=title,
            text=f"{title}\n{excerpt}" if excerpt else title, published_at=parse_date(date.group(1), now), url=link,
            comments=int(answers.group(1)) if answers else 0, keyword=keyword, extra=extra,
        ))
        requests.append(PageRequest(url=link, parser="zhidao.question", meta={"keyword": keyword}))
    pn = int_param(url, "pn", 0)
    nxt = doc.xpath("//a[contains(@class,'pager-next') or normalize-space(.)='下一页>' or normalize-space(.)='下一页']"
                    "/@href")
    next_pn = None
    if nxt:
        next_pn = int(query(urljoin(BASE, nxt[0])).get("pn") or 0)
        if next_pn <= pn:  # the 2013 pages link "next" to pn=10 from every page; trust our own pn
            next_pn = pn + max(len(items), 10)
        requests.append(PageRequest(url=with_query(url, pn=next_pn), parser="zhidao.search", meta={"keyword": keyword}))
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="zhidao.search",
                       cursor={"pn": pn, "next_pn": next_pn, **({"ads": ads} if ads else {})})


def _answer_date(el: Any, now: datetime) -> datetime:
    for xpath in (".//*[contains(@class,'time')]//text()", ".//*[contains(@class,'info')]//text()", ".//text()"):
        found = _DATE.search(" ".join(el.xpath(xpath)))
        if found:
            return parse_date(found.group(1), now)
    raise DateError("no answer date")


def parse_question(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """A question page -> the question (kind question) and its best and other answers (kind answer)."""
    meta = meta or {}
    page_title, doc = _doc(body, url)
    if "信息提示" in page_title:
        return _info_page(page_title, doc, "zhidao.question")
    raw = decode(body)
    qid_match = _QID.search(url) or re.search(r"qid\s*[:=]\s*['\"]?(\d+)", raw)
    titles = doc.xpath("//span[contains(@class,'ask-title')] | //h1[contains(@class,'title')]")
    if not qid_match or not titles:
        raise ParseError(f"{url}: changed layout, no question id or span.ask-title in zhidao question page")
    qid, title = qid_match.group(1), element_text(titles[0])
    keyword = as_str(meta.get("keyword"))
    detail = doc.xpath("//*[contains(@class,'q-content') or contains(@class,'ask-content')]")
    supply = doc.xpath("//*[contains(@class,'q-supply-content')]")
    text = "\n".join(t for t in [title, *(element_text(d) for d in detail + supply)] if t)
    asker = doc.xpath("//*[@id='ask-info']//a[contains(@class,'user-name')]")
    posts: list[Post] = []
    rejected: list[Rejected] = []
    try:
        asked = _answer_date(doc.xpath("//*[@id='ask-info'] | //*[contains(@class,'ask-time')]")[0], now)
    except (DateError, IndexError):
        asked = None
    users = {m.group(1): (m.group(2), m.group(3)) for m in _CONTEXT.finditer(raw)}
    answers = [el for el in doc.xpath("//div[starts-with(@id,'answer-') and contains(@class,'answer')]")
               if re.fullmatch(r"answer-\d+", el.get("id", ""))]
    for el in answers:
        aid = el.get("id", "")[len("answer-"):]
        body_el = el.xpath(".//*[contains(@class,'best-text') or contains(@class,'recommend-text') or "
                           "contains(@class,'answer-text') or contains(@class,'rich-content') or @class='con']")
        answer_text = element_text(body_el[0]) if body_el else ""
        if not aid.isdigit() or not answer_text:
            rejected.append(reject(SOURCE, f"answer {aid or '?'} of question {qid} without id or text", url, aid, now))
            continue
        wrapper = el.getparent() if el.getparent() is not None else el
        try:
            answered = _answer_date(el, now)
        except DateError as exc:
            rejected.append(reject(SOURCE, f"answer {aid}: {exc}", url, aid, now))
            continue
        best = bool(wrapper.xpath("self::*[contains(@class,'wgt-best') or contains(@class,'wgt-recommend')]"))
        uid, name = users.get(aid, ("", ""))
        if not name:
            names = el.xpath(".//a[contains(@class,'user-name')]") or wrapper.xpath(".//a[contains(@class,'user-name')]")
            name = names[0].text_content().strip() if names else ""
        posts.append(Post(
            platform="zhidao", post_id=aid, text=answer_text, published_at=answered, kind="answer", title=title,
            url=f"{BASE}/question/{qid}.html#answer-{aid}", parent_id=question_key(qid), author_id=uid,
            author_name=name, keyword=keyword, extra={"best": True} if best else {},
            ip_region=ip_region_in(" ".join(el.xpath(".//*[contains(@class,'info') or contains(@class,'ip')]//text()"))),
            likes=parse_count(" ".join(el.xpath(".//*[contains(@class,'evaluate')]/@data-evaluate"))),
        ))
    if asked is None and posts:
        asked = min(p.published_at for p in posts)
        question_extra: dict[str, Any] = {"date_estimated": True}
    else:
        question_extra = {}
    if asked is None:
        rejected.append(reject(SOURCE, f"question {qid} has no date and no answers", url, title, now))
    else:
        posts.insert(0, Post(
            platform="zhidao", post_id=question_key(qid), kind="question", title=title, text=text,
            published_at=asked, url=f"{BASE}/question/{qid}.html", comments=len(answers), keyword=keyword,
            author_name=asker[0].text_content().strip() if asker else "", extra={"native_id": qid, **question_extra},
            ip_region=ip_region_in(" ".join(doc.xpath("//*[@id='ask-info']//text()"))),
        ))
    return ParseResult(posts=posts, rejected=rejected, page_kind="zhidao.question", cursor={"question_id": qid})
