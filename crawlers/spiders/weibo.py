"""m.weibo.cn: search (type=61 实时 and type=1 综合), statuses/extend for long posts, comments/hotflow.

The search API never shows more than 50 pages; when a query reaches the cap the time window is
split in halves with `timescope=custom:YYYY-MM-DD-H:YYYY-MM-DD-H` (Asia/Shanghai hours, both
ends inclusive) until each half fits. Comments are followed for replied cases and for posts
whose influence or discussion is above a threshold.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import ParseResult
from crawlers.spiders.base import PlatformSpider
from yuqing.records import Post
from yuqing.timefmt import SHANGHAI

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)


def timescope(start: datetime, end: datetime) -> str:
    """custom:2026-11-24-9:2026-11-24-17 for the hours [start, end] in Asia/Shanghai."""
    a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    return f"custom:{a:%Y-%m-%d}-{a.hour}:{b:%Y-%m-%d}-{b.hour}"


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def split_window(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Two halves of the inclusive hour range [start, end]; [] when it is a single hour."""
    hours = int((end - start) / HOUR)
    if hours < 1:
        return []
    mid = start + HOUR * (hours // 2)
    return [(start, mid), (mid + HOUR, end)]


class WeiboSpider(PlatformSpider):
    name = "weibo"
    real_hosts = ("m.weibo.cn",)
    search_parsers = ("weibo.search",)

    def search_url(self, keyword: str, search_type: str, window: tuple[datetime, datetime] | None = None) -> str:
        containerid = f"100103type={search_type}&q={keyword}"
        params = {"containerid": containerid, "page_type": "searchall", "page": "1"}
        if window is not None:
            params["timescope"] = timescope(*window)
        return f"{self.base_url}/api/container/getIndex?{urlencode(params, quote_via=quote)}"

    def hotflow_url(self, post_id: str) -> str:
        return f"{self.base_url}/comments/hotflow?id={post_id}&mid={post_id}&max_id_type=0"

    def search(self, keyword: str, search_type: str, window: tuple[datetime, datetime] | None = None,
               priority: int = 0) -> scrapy.Request:
        query: dict[str, Any] = {"keyword": keyword, "type": search_type, "page": 1}
        if window is not None:
            query["window"] = (window[0].isoformat(), window[1].isoformat())
        return self.page_request(self.search_url(keyword, search_type, window), "weibo.search",
                                 parse_meta={"keyword": keyword, "page": 1}, query=query, priority=priority)

    async def start(self) -> AsyncIterator[Any]:
        for req in self.start_requests_list():
            yield req

    def start_requests_list(self) -> list[scrapy.Request]:
        out = []
        for keyword in self.watch_keywords():
            out.append(self.search(keyword, "61", priority=10))
            out.append(self.search(keyword, "1"))
        for post_id in self.followed_posts():
            out.append(self.page_request(self.hotflow_url(post_id), "weibo.hotflow",
                                         parse_meta={"parent_id": post_id}))
        return out

    def followed_posts(self) -> list[str]:
        """Posts whose comments we follow: replied cases and recent high-influence posts."""
        from yuqing.index import PostQuery

        ids = [c.post_id for c in self.ops.list_cases(statuses=("replied",), limit=200) if c.platform == "weibo"]
        threshold = self.settings.getfloat("YUQING_HOTFLOW_MIN_INFLUENCE", 60.0)
        since = self.now() - timedelta(days=2)
        hot = self.index.search_posts(PostQuery(platforms=("weibo",), since=since, min_influence=threshold,
                                                kinds=("post", "repost")), limit=20, order="influence_desc")
        ids += [sp.post.post_id for sp in hot]
        return list(dict.fromkeys(ids))

    # --- paging: type=61 pages until caught up (or the cap, then splits); type=1 only max_pages
    def follow(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        yield from super().follow(response, result)
        if response.meta["parser"] == "weibo.search":
            yield from self.saturated(response, result)
        threshold = self.settings.getint("YUQING_HOTFLOW_MIN_COMMENTS", 200)
        for post in result.posts:
            if post.kind in ("post", "repost") and post.comments >= threshold:
                yield self.page_request(self.hotflow_url(post.post_id), "weibo.hotflow",
                                        parse_meta={"parent_id": post.post_id})

    def page_limit(self, query: dict[str, Any]) -> int:
        if self.max_pages_arg:
            return self.max_pages_arg
        if query.get("type") == "61":
            return self.settings.getint("YUQING_WEIBO_PAGE_CAP", 50)
        return self.max_pages

    def next_page(self, response: Response, result: ParseResult, req: Any, query: dict[str, Any]) -> Any:
        page = int(query.get("page", 1))
        if page >= self.page_limit(query):
            return None
        if self.nothing_new(result.posts) or self.before_lookback(result.posts):
            self.crawler.stats.inc_value("yuqing/paging/caught_up")
            return None
        return self.page_request(req.url, req.parser, parse_meta=req.meta, query={**query, "page": page + 1})

    def before_lookback(self, posts: list[Post]) -> bool:
        """First run: stop once a whole page is older than the look-back window."""
        if self.last_success is not None or not posts:
            return False
        horizon = self.now() - timedelta(hours=self.settings.getint("YUQING_LOOKBACK_HOURS", 72))
        return all(p.published_at < horizon for p in posts)

    def saturated(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        query = dict(response.meta.get("query") or {})
        cap = self.settings.getint("YUQING_WEIBO_PAGE_CAP", 50)
        if query.get("type") != "61" or self.max_pages_arg or int(query.get("page", 1)) < cap or not result.posts:
            return
        if self.nothing_new(result.posts):
            return
        if query.get("window"):
            start, end = (datetime.fromisoformat(v) for v in query["window"])
        else:
            now = self.now()
            since = self.last_success or now - timedelta(hours=self.settings.getint("YUQING_LOOKBACK_HOURS", 72))
            start, end = floor_hour(since.astimezone(SHANGHAI)) - HOUR, floor_hour(now.astimezone(SHANGHAI))
        halves = split_window(start, end)
        if not halves:
            self.crawler.stats.inc_value("yuqing/errors/saturated")
            log.error("weibo search %r saturates a single hour (%s); some posts may be missed",
                      query.get("keyword"), timescope(start, end))
            return
        self.crawler.stats.inc_value("yuqing/paging/split")
        log.info("weibo search %r reached the %d-page cap; splitting %s", query.get("keyword"), cap,
                 timescope(start, end))
        for window in halves:
            yield self.search(str(query["keyword"]), "61", window, priority=5)
