"""Baidu Tieba: keyword search (/f/search/res, newest first) and the configured bars' thread lists (/f?kw=), then
each thread's pages with their floors and floor replies.

Incremental by thread and floor: tieba's crawl cursor `threads` (OpsDB crawl_cursors) keeps, per thread, the
reply count its bar list showed, the last page read and whether that was the thread's last page. A listed thread read to its end whose
count is unchanged is not fetched again; a changed or unfinished one is read on from its last page read (new
floors are appended at the end), and the floor replies of its earlier pages are read again (one JSON call per
page: a reply inside an old floor lands there). A search hit is followed when it is new to the store or its
thread is unfinished.
A bar list is paged on only while its page holds changed threads, and on a first run only back to the look-back
window (YUQING_LOOKBACK_HOURS). Floor replies added to a thread whose floors did not change are read the next
time it changes (replying inside a floor does not bump a thread). The state is saved when the crawl closes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import PageRequest, ParseResult
from crawlers.parsers.dates import DateError
from crawlers.parsers.tieba import list_date, thread_url
from crawlers.parsers.tieba_thread import replies_url
from crawlers.spiders.base import PlatformSpider

MAX_THREADS = 5000  # threads remembered; the oldest are forgotten first


class TiebaSpider(PlatformSpider):
    name = "tieba"
    real_hosts = ("tieba.baidu.com",)
    search_parsers = ("tieba.search", "tieba.forum")

    def attach(self, index: Any, ops: Any) -> None:
        super().attach(index, ops)
        raw = ops.get_cursor(self.name, "threads")
        # tid -> [replies its bar list showed (-1: not seen on a list), last page read, 1 when that was the last page]
        self.threads: dict[str, list[int]] = json.loads(raw) if raw else {}
        self.requested: set[str] = set()
        self.listed: dict[str, int] = {}  # reply counts the bar lists show in this run

    def search_url(self, keyword: str) -> str:
        params = {"ie": "utf-8", "qw": keyword, "rn": "20", "pn": "1", "sm": "1", "only_thread": "0"}
        return f"{self.base_url}/f/search/res?{urlencode(params, quote_via=quote)}"

    def forum_url(self, bar: str) -> str:
        return f"{self.base_url}/f?{urlencode({'kw': bar, 'ie': 'utf-8', 'pn': '0'}, quote_via=quote)}"

    def bars(self) -> list[str]:
        from crawlers.watchlist import load_watchlist

        return [] if self.keywords else list(load_watchlist(self.yq_settings.crawl.watchlist).bars_for(self.name))

    async def start(self) -> AsyncIterator[Any]:
        for keyword in self.watch_keywords():
            yield self.page_request(self.search_url(keyword), "tieba.search", parse_meta={"keyword": keyword},
                                    query={"keyword": keyword, "page": 1})
        for bar in self.bars():
            yield self.page_request(self.forum_url(bar), "tieba.forum", parse_meta={"bar": bar},
                                    query={"bar": bar, "page": 1})

    # --- which threads to read, and from which page
    def follow(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        key = response.meta["parser"]
        if key == "tieba.thread":
            result = self.thread_read(response, result)
        if key not in self.search_parsers:
            yield from super().follow(response, result)
            return
        kept: list[PageRequest] = []
        changed = False
        for req in result.requests:
            if req.parser != "tieba.thread":
                kept.append(req)
                continue
            start_page = self.thread_start(key, req)
            if start_page is not None:
                changed = True
                meta = {**req.meta, "listed": req.meta.get("replies", -1), "resumed_at": start_page}
                kept.append(dataclasses.replace(req, url=thread_url(str(req.meta["thread_id"]), start_page), meta=meta))
        if key == "tieba.forum" and ((not changed and self.threads) or self.before_lookback(result)):
            kept = [r for r in kept if r.parser != "tieba.forum"]  # nothing new on this page: the rest is older
            self.crawler.stats.inc_value("yuqing/paging/caught_up")
        yield from super().follow(response, dataclasses.replace(result, requests=kept))

    def thread_start(self, key: str, req: PageRequest) -> int | None:
        """The page to start a thread at, or None to leave it (unchanged, too old, or requested in this run)."""
        tid = str(req.meta.get("thread_id"))
        known = self.threads.get(tid)
        if key == "tieba.forum" and req.meta.get("replies") is not None:
            self.listed[tid] = int(req.meta["replies"])
        if tid in self.requested:
            if known is not None and known[2] and tid in self.listed:  # read already in this run, from a search hit
                known[0] = self.listed[tid]
            return None
        if known is not None and known[2]:
            if key == "tieba.forum" and known[0] == req.meta.get("replies"):
                self.crawler.stats.inc_value("yuqing/tieba/threads_unchanged")
                return None
            hits = [str(h) for h in req.meta.get("hits", ())]
            if key == "tieba.search" and hits and len(self.index.seen_ids(self.name, hits)) == len(set(hits)):
                self.crawler.stats.inc_value("yuqing/tieba/threads_unchanged")
                return None
        if known is None and key == "tieba.forum" and self.older_than_lookback(str(req.meta.get("last_reply", ""))):
            return None
        self.requested.add(tid)
        return max(known[1], 1) if known else 1

    def horizon(self) -> datetime:
        return self.now() - timedelta(hours=self.settings.getint("YUQING_LOOKBACK_HOURS", 72))

    def older_than_lookback(self, last_reply: str) -> bool:
        try:
            return bool(last_reply) and list_date(last_reply, self.now()) < self.horizon()
        except DateError:
            return False

    def before_lookback(self, result: ParseResult) -> bool:
        """A bar page whose threads were all last answered before the look-back window (first runs stop there)."""
        replies = [str(p.extra.get("last_reply", "")) for p in result.posts]
        return bool(replies) and all(self.older_than_lookback(r) for r in replies)

    def thread_read(self, response: Response, result: ParseResult) -> ParseResult:
        """Remember how far a thread was read, and the reply count its list showed when it came from one; the next
        page of the thread carries that count on."""
        cursor = result.cursor
        tid = str(cursor.get("thread_id") or "")
        if not tid or cursor.get("end"):
            return result
        listed = self.listed.get(tid, int(response.meta.get("parse_meta", {}).get("listed", -1)))
        previous = self.threads.pop(tid, [-1, 1, 0])
        page, pages = int(cursor.get("page", 1)), int(cursor.get("pages", 1))
        self.threads[tid] = [listed if listed != -1 else previous[0], page, int(page >= pages)]
        requests = [dataclasses.replace(r, meta={**r.meta, "listed": listed}) if r.parser == "tieba.thread" else r
                    for r in result.requests]
        resumed_at = int(response.meta.get("parse_meta", {}).get("resumed_at") or 1)
        if resumed_at > 1 and page == resumed_at and cursor.get("fid"):  # earlier pages' floors may have new replies
            requests += [PageRequest(url=replies_url(tid, str(cursor["fid"]), n), parser="tieba.replies",
                                     meta={"thread_id": tid}) for n in range(max(1, page - self.max_pages), page)]
        return dataclasses.replace(result, requests=requests)

    def next_page(self, response: Response, result: ParseResult, req: Any, query: dict[str, Any]) -> Any:
        if response.meta["parser"] == "tieba.forum":  # stubs keep their creation date: "nothing new" is by reply count
            page = int(query.get("page", 1))
            if page >= self.max_pages:
                return None
            return self.page_request(req.url, req.parser, parse_meta=req.meta, query={**query, "page": page + 1})
        return super().next_page(response, result, req, query)

    def closed(self, reason: str) -> None:
        if self.ops is not None and self.threads:
            kept = dict(list(self.threads.items())[-MAX_THREADS:])
            self.ops.set_cursor(self.name, "threads", json.dumps(kept, separators=(",", ":")), datetime.now(UTC))
