"""weibo.cn (WAP) HTML: profile/timeline pages (div.c id=M_<bid>) and comment pages (/comment/<bid>, C_<cid>).

Post ids are converted from the bid in the markup to the numeric mid the JSON APIs use, so a post
seen on both sites is one record; the bid is kept in extra.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from yuqing.records import Post, Rejected

from .base import Blocked, PageRequest, ParseError, ParseResult
from .common import looks_blocked, reject, require_complete_html
from .dates import DateError, parse_date
from .encoding import decode
from .html import element_text
from .weibo_ids import bid_to_mid

SOURCE = "weibo"
_PICS = re.compile(r"\s*\[组图共\d+张\]\s*$")
_ACTION = re.compile(r"^(?:原图|赞\[\d+\]|转发\[\d+\]|评论\[\d+\]|原文评论\[\d+\]|收藏|操作|举报|关注[他她]|图片|查看图片|全文)$")


def _count(el: Any, label: str) -> int:
    """The N of a "转发[N]" / "评论[N]" / "赞[N]" link or span (not "原文评论[N]")."""
    pattern = re.compile(rf"^{label}\[(\d+)\]$")
    for node in el.xpath(".//a | .//span"):
        match = pattern.match(node.text_content().replace("\xa0", " ").strip())
        if match:
            return int(match.group(1))
    return 0


def _ct_date(el: Any, now: datetime) -> tuple[datetime, str]:
    """(published_at, source app) from the span.ct "06月17日 18:12 来自绿洲APP"."""
    cts = el.xpath(".//span[@class='ct']")
    if not cts:
        raise DateError("no span.ct date")
    text = " ".join(cts[-1].text_content().replace("\xa0", " ").split())
    when, _, app = text.partition("来自")
    when = re.sub(r"\s*(网页|手机|客户端)$", "", when.strip())
    return parse_date(when.strip(), now), app.strip()


def _mid(bid: str) -> str:
    try:
        return bid_to_mid(bid)
    except ValueError:
        return bid


def _author(doc: Any) -> tuple[str, str]:
    """(uid, name) of a profile page's header."""
    uid = ""
    for href in doc.xpath("//div[@class='ut']//a/@href"):
        match = re.match(r"/(\d+)/(?:info|operation)", href)
        if match:
            uid = match.group(1)
            break
    name_el = doc.xpath("//div[@class='ut']/span[@class='ctt'][1]")
    name = name_el[0].text.strip() if name_el and name_el[0].text else ""
    return uid, name


def _without_actions(el: Any) -> Any:
    """A copy of `el` without labels, dates, comment markers and action links (赞[12] 转发 收藏 原图 …)."""
    clone = copy.deepcopy(el)
    for junk in clone.xpath(".//span[@class='cmt' or @class='ct'] | .//a[@class='cc'] | .//comment()"):
        junk.drop_tree()
    for link in clone.xpath(".//a"):
        if _ACTION.match(link.text_content().replace("\xa0", " ").strip()):
            link.drop_tree()
    return clone


def _post(div: Any, bid: str, author: tuple[str, str], url: str, now: datetime) -> Post | Rejected:
    parts = div.xpath("./div")
    if not parts:
        return reject(SOURCE, f"wap post {bid} without content", url, bid, now)
    repost_of = div.xpath(".//span[@class='cmt' and contains(., '转发了')]")
    parent_bid = ""
    if repost_of:
        link = div.xpath(".//a[contains(normalize-space(.), '原文评论')]/@href")
        match = re.search(r"/comment/(\w+)", link[0]) if link else None
        parent_bid = match.group(1) if match else ""
        reason = div.xpath(".//span[@class='cmt' and contains(., '转发理由')]/..")
        text = element_text(_without_actions(reason[-1])) if reason else ""
    else:
        text = _PICS.sub("", element_text(_without_actions(parts[0]))).strip()
    if not text:
        return reject(SOURCE, f"wap post {bid} has no text", url, bid, now)
    try:
        published, app = _ct_date(div, now)
    except DateError as exc:
        return reject(SOURCE, f"wap post {bid}: {exc}", url, bid, now)
    mid = _mid(bid)
    return Post(
        platform="weibo", post_id=mid, text=text, published_at=published, url=f"https://m.weibo.cn/detail/{mid}",
        kind="repost" if repost_of else "post", parent_id=_mid(parent_bid) if parent_bid else "",
        author_id=author[0], author_name=author[1],
        reposts=_count(div, "转发"), comments=_count(div, "评论"), likes=_count(div, "赞"),
        extra={"bid": bid, **({"source": app} if app else {}),
               **({"truncated": True} if div.xpath(".//a[normalize-space(.)='全文']") else {})},
    )


def _comment(div: Any, parent_id: str, url: str, now: datetime) -> Post | Rejected:
    cid = div.get("id", "")[2:]
    ctt = div.xpath("./span[@class='ctt']")
    text = element_text(ctt[0]) if ctt else ""
    if not cid or not text:
        return reject(SOURCE, f"wap comment {cid or '?'} without id or text", url, cid, now)
    try:
        published, _ = _ct_date(div, now)
    except DateError as exc:
        return reject(SOURCE, f"wap comment {cid}: {exc}", url, cid, now)
    author = div.xpath("./a[1]")
    href = author[0].get("href", "") if author else ""
    return Post(
        platform="weibo", post_id=cid, text=text, published_at=published, kind="comment", parent_id=parent_id,
        url=f"https://m.weibo.cn/detail/{parent_id}", author_name=author[0].text_content().strip() if author else "",
        author_id=href.strip("/").split("/")[-1] if href.strip("/").split("/")[-1].isdigit() else "",
        likes=_count(div, "赞"), extra={"hot": True} if div.xpath("./span[@class='kt']") else {},
    )


def parse_wap(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """A weibo.cn page: profile/timeline (posts) or /comment/<bid> (the post and its comments)."""
    text = decode(body)
    if "<div class=\"c\"" not in text and "<div class='c'" not in text:
        if looks_blocked(text[:20000]) or "passport.weibo" in text[:20000]:
            raise Blocked(f"{url}: weibo.cn showed a login/captcha page")
        raise ParseError(f"{url}: changed layout, no div.c entries in weibo.cn WAP HTML")
    require_complete_html(text, url)
    doc = lxml.html.fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    posts: list[Post] = []
    rejected: list[Rejected] = []
    requests: list[PageRequest] = []
    path_match = re.search(r"/comment/(\w+)", urlsplit(url).path)
    if path_match:
        bid = path_match.group(1)
        parent_id = _mid(bid)
        main = doc.xpath("//div[@class='c' and starts-with(@id, 'M_')][1]")
        if main:
            name = main[0].xpath("./div[1]/a[1]")
            uid = (name[0].get("href", "").strip("/") if name else "")
            result = _post(main[0], bid, (uid if uid.isdigit() else "", name[0].text_content().strip() if name else ""),
                           url, now)
            (posts if isinstance(result, Post) else rejected).append(result)  # type: ignore[arg-type]
            if isinstance(result, Post):
                counts = doc.xpath("//div[span[@class='pms']]")
                if counts:
                    posts[-1] = _with_counts(result, counts[0])
        for div in doc.xpath("//div[@class='c' and starts-with(@id, 'C_')]"):
            result = _comment(div, parent_id, url, now)
            (posts if isinstance(result, Post) else rejected).append(result)  # type: ignore[arg-type]
    else:
        author = _author(doc)
        for div in doc.xpath("//div[@class='c' and starts-with(@id, 'M_')]"):
            result = _post(div, div.get("id")[2:], author, url, now)
            (posts if isinstance(result, Post) else rejected).append(result)  # type: ignore[arg-type]
        requests += [PageRequest(url=f"https://weibo.cn/comment/{p.extra['bid']}", parser="weibo.wap")
                     for p in posts if p.extra.get("truncated")]  # the comment page shows the full text
    cursor: dict[str, Any] = {}
    nxt = doc.xpath("//div[@id='pagelist']//a[normalize-space(.)='下页']/@href")
    pages = re.search(r"(\d+)/(\d+)页", " ".join(doc.xpath("//div[@id='pagelist']//text()")))
    if pages:
        cursor.update(page=int(pages.group(1)), next_page=int(pages.group(1)) + 1 if nxt else None)
    if nxt:
        requests.append(PageRequest(url=f"https://weibo.cn{nxt[0]}" if nxt[0].startswith("/") else nxt[0],
                                    parser="weibo.wap"))
    if posts:
        cursor["oldest"] = min(p.published_at for p in posts)
    elif not rejected:
        cursor.update(end=True, reason="no posts on this page (profile info or empty list)")
    return ParseResult(posts=posts, requests=requests, rejected=rejected, page_kind="weibo.wap", cursor=cursor)


def _with_counts(post: Post, bar: Any) -> Post:
    return dataclasses.replace(post, reposts=_count(bar, "转发") or post.reposts,
                               comments=_count(bar, "评论") or post.comments, likes=_count(bar, "赞") or post.likes)
