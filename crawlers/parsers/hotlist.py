"""Hot lists (热搜/热榜): Weibo 热搜 (weibo.com/ajax/side/hotSearch), Baidu 热搜 (top.baidu.com api/board or the
board page's s-data), Zhihu 热榜 (api/v3/feed/topstory/hot-lists/total) and Douyin 热榜
(aweme/v1/web/hot/search/list). Each page gives ParseResult.entries: HotEntry in rank order, fetched_at =
`now`. Advertisements (Weibo's is_ad / 荐) are skipped and counted (cursor ads); entries that cannot be read
are rejected; a pinned entry (Weibo's hotgov, Baidu's isTop) has rank 0 and pinned=True.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from yuqing.records import HotEntry, Rejected

from .base import Blocked, ParseError, ParseResult
from .common import as_list, as_map, as_str, load_json, looks_blocked, reject
from .counts import parse_count
from .encoding import decode
from .html import to_text

_S_DATA = re.compile(r"<!--s-data:(.*?)-->", re.S)
_ZHIHU_QUESTION = re.compile(r"/questions?/(\d+)")
WEIBO_LABELS = {"新": "新", "热": "热", "沸": "沸", "爆": "爆", "暖": "暖", "商": "商"}
BAIDU_TAGS = {"1": "新", "3": "热"}  # hotTag codes seen on the board; others are kept raw in extra
DOUYIN_LABELS = {1: "新", 3: "热"}


def _entry(board: str, word: str, rank: int, now: datetime, **fields: Any) -> HotEntry:
    return HotEntry(board=board, word=word, rank=rank, fetched_at=now, **fields)


def _result(kind: str, entries: list[HotEntry], rejected: list[Rejected], **cursor: Any) -> ParseResult:
    return ParseResult(page_kind=kind, entries=entries, rejected=rejected,
                       cursor={"entries": len(entries), **{k: v for k, v in cursor.items() if v}})


def parse_weibo(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """{"ok":1,"data":{"realtime":[{word, word_scheme, num, rank (0-based), label_name|icon_desc, is_ad…}],
    "hotgov": {…}, "hotgovs": […]}}: the ranked entries after the pinned ones."""
    data = load_json(body, url, "weibo hotSearch")
    if not isinstance(data, Mapping) or "ok" not in data:
        raise ParseError(f"{url}: changed layout, no 'ok' in weibo hotSearch JSON")
    if data.get("ok") != 1:
        message = as_str(data.get("msg"))
        if looks_blocked(message) or data.get("ok") == -100:
            raise Blocked(f"{url}: weibo refused the hot list (ok={data.get('ok')}, {message!r})")
        raise ParseError(f"{url}: weibo hotSearch answered ok={data.get('ok')} {message!r}")
    inner = as_map(data.get("data"))
    realtime = inner.get("realtime")
    if not isinstance(realtime, list):
        raise ParseError(f"{url}: changed layout, no data.realtime list in weibo hotSearch")
    entries: list[HotEntry] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for gov in [as_map(inner.get("hotgov")), *map(as_map, as_list(inner.get("hotgovs")))]:
        word = as_str(gov.get("word") or gov.get("name")).strip("#").strip()
        if word and word not in seen:
            seen.add(word)
            entries.append(_entry("weibo", word, 0, now, pinned=True, label=as_str(gov.get("icon_desc")) or "置顶",
                                  url=as_str(gov.get("url")) or _weibo_url(as_str(gov.get("word")) or f"#{word}#")))
    ads, position = 0, 0
    for item in realtime:
        if not isinstance(item, Mapping):
            rejected.append(reject("hotlist", "weibo hot entry is not an object", url, item, now))
            continue
        if item.get("is_ad") or as_str(item.get("icon_desc")) == "荐" or item.get("ad_type"):
            ads += 1
            continue
        position += 1
        word = as_str(item.get("word") or item.get("note")).strip("#").strip()
        if not word:
            rejected.append(reject("hotlist", "weibo hot entry without word", url, item, now))
            continue
        rank = item.get("rank")
        rank = rank + 1 if isinstance(rank, int) and not isinstance(rank, bool) and rank >= 0 else position
        label = as_str(item.get("label_name") or item.get("icon_desc") or item.get("small_icon_desc"))
        extra = {k: item.get(k) for k in ("category", "onboard_time", "realpos") if item.get(k) not in (None, "")}
        entries.append(_entry("weibo", word, rank, now, heat=parse_count(item.get("num") or item.get("raw_hot")),
                              label=WEIBO_LABELS.get(label, label), extra=extra,
                              url=_weibo_url(as_str(item.get("word_scheme")) or f"#{word}#")))
    return _result("hotlist.weibo", entries, rejected, ads=ads)


def _weibo_url(scheme: str) -> str:
    return f"https://s.weibo.com/weibo?q={quote(scheme, safe='')}"


def _baidu_items(data: Mapping[str, Any]) -> Iterable[tuple[Mapping[str, Any], bool]]:
    """(item, pinned) from every card: the pinned `topContent` first, then `content`, flattening the wise API's
    nested content lists."""
    for card in as_list(as_map(data.get("data")).get("cards")):
        card = as_map(card)
        for item in as_list(card.get("topContent")):
            yield as_map(item), True
        for item in as_list(card.get("content")):
            item = as_map(item)
            nested = item.get("content")
            if isinstance(nested, list):
                for inner in nested:
                    yield as_map(inner), bool(as_map(inner).get("isTop"))
            else:
                yield item, bool(item.get("isTop"))


def parse_baidu(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """api/board?tab=realtime ({"success":true,"data":{"cards":[{content…}]}}) or the board page's
    <!--s-data:{…}--> JSON: word, query, hotScore, index (0-based), hotTag, isTop."""
    text = decode(body).lstrip()
    if text.startswith("<"):
        found = _S_DATA.search(text)
        if not found:
            if "百度安全验证" in text[:20000] or "wappass.baidu.com" in text[:20000]:
                raise Blocked(f"{url}: baidu showed a verification page instead of the hot board")
            raise ParseError(f"{url}: changed layout, no <!--s-data: …--> in the baidu hot board page")
        try:
            data: Any = {"success": True, "data": json.loads(found.group(1))}
        except json.JSONDecodeError as exc:
            raise ParseError(f"{url}: malformed s-data JSON in the baidu hot board page: {exc}") from None
    else:
        data = load_json(body, url, "baidu hot board")
    if not isinstance(data, Mapping) or not isinstance(as_map(data.get("data")).get("cards"), list):
        if isinstance(data, Mapping) and data.get("success") is False:
            raise ParseError(f"{url}: baidu hot board answered success=false ({as_str(data.get('error'))!r})")
        raise ParseError(f"{url}: changed layout, no data.cards list in the baidu hot board")
    entries: list[HotEntry] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    position = 0
    for item, pinned in _baidu_items(data):
        word = as_str(item.get("word") or item.get("query")).strip()
        if not word:
            rejected.append(reject("hotlist", "baidu hot entry without word", url, item, now))
            continue
        if word in seen:
            continue
        seen.add(word)
        position += 0 if pinned else 1
        index = item.get("index")
        rank = 0 if pinned else (index + 1 if isinstance(index, int) and not isinstance(index, bool) else position)
        tag = as_str(item.get("hotTag"))
        query_word = as_str(item.get("query")) or word
        extra = {k: v for k, v in (("hot_tag", tag), ("desc", to_text(as_str(item.get("desc"))))) if v and v != "0"}
        entries.append(_entry("baidu", word, rank, now, heat=parse_count(item.get("hotScore")), pinned=pinned,
                              label="置顶" if pinned else BAIDU_TAGS.get(tag, ""), extra=extra,
                              url=f"https://www.baidu.com/s?wd={quote(query_word, safe='')}"))
    return _result("hotlist.baidu", entries, rejected)


def parse_zhihu(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """api/v3/feed/topstory/hot-lists/total: data[] of {target: {title, url, excerpt} or {title_area, link,
    metrics_area}, detail_text: "1234 万热度"}; rank is the position."""
    data = load_json(body, url, "zhihu hot list")
    if isinstance(data, Mapping) and isinstance(data.get("error"), Mapping):
        error = data["error"]
        raise Blocked(f"{url}: zhihu refused the hot list (code={error.get('code')}, {as_str(error.get('message'))!r})")
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise ParseError(f"{url}: changed layout, no data list in the zhihu hot list")
    entries: list[HotEntry] = []
    rejected: list[Rejected] = []
    for position, item in enumerate(items, 1):
        item = as_map(item)
        target = as_map(item.get("target"))
        word = to_text(as_str(target.get("title") or as_map(target.get("title_area")).get("text")))
        if not word:
            rejected.append(reject("hotlist", "zhihu hot entry without title", url, item, now))
            continue
        heat_text = as_str(item.get("detail_text") or as_map(target.get("metrics_area")).get("text"))
        link = as_str(target.get("url") or as_map(target.get("link")).get("url"))
        qid = (_ZHIHU_QUESTION.search(link) or [None, ""])[1] or as_str(target.get("id"))
        extra = {k: v for k, v in (("question_id", qid), ("heat_text", heat_text),
                                   ("answers", parse_count(target.get("answer_count")))) if v}
        entries.append(_entry("zhihu", word, position, now, heat=parse_count(heat_text), extra=extra,
                              label="新" if item.get("debut") else "",
                              url=f"https://www.zhihu.com/question/{qid}" if qid.isdigit() else link))
    return _result("hotlist.zhihu", entries, rejected)


def parse_douyin(body: bytes, url: str, *, now: datetime, meta: Mapping[str, Any] | None = None) -> ParseResult:
    """aweme/v1/web/hot/search/list: {"status_code":0,"data":{"word_list":[{word, hot_value, position,
    sentence_id, label, event_time}]}}; rank is `position` (1-based)."""
    data = load_json(body, url, "douyin hot list")
    if not isinstance(data, Mapping) or "status_code" not in data:
        raise ParseError(f"{url}: changed layout, no status_code in the douyin hot list")
    if data.get("status_code") != 0:
        message = as_str(data.get("status_msg"))
        if looks_blocked(message) or data.get("status_code") in (2154, 8):
            raise Blocked(f"{url}: douyin refused the hot list (status_code={data.get('status_code')}, {message!r})")
        raise ParseError(f"{url}: douyin hot list answered status_code={data.get('status_code')} {message!r}")
    words = as_map(data.get("data")).get("word_list")
    if not isinstance(words, list):
        raise ParseError(f"{url}: changed layout, no data.word_list in the douyin hot list")
    entries: list[HotEntry] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(words, 1):
        item = as_map(item)
        word = as_str(item.get("word")).strip()
        if not word:
            rejected.append(reject("hotlist", "douyin hot entry without word", url, item, now))
            continue
        position = item.get("position")
        rank = position if isinstance(position, int) and not isinstance(position, bool) and position > 0 else index
        label = item.get("label")
        sentence = as_str(item.get("sentence_id"))
        extra = {k: v for k, v in (("sentence_id", sentence), ("label_code", label), ("event_time", item.get("event_time")),
                                   ("videos", parse_count(item.get("video_count")))) if v}
        entries.append(_entry("douyin", word, rank, now, heat=parse_count(item.get("hot_value")), extra=extra,
                              label=DOUYIN_LABELS.get(label, "") if isinstance(label, int) else "",
                              url=f"https://www.douyin.com/hot/{sentence}" if sentence else
                              f"https://www.douyin.com/search/{quote(word, safe='')}"))
    return _result("hotlist.douyin", entries, rejected)
