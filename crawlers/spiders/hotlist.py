"""The hot lists (微博热搜, 百度热搜, 知乎热榜, 抖音热榜): one request per board of [hotlists] boards, parsed by
crawlers.parsers.hotlist, the watched entries recorded in the OpsDB (crawlers.hotpoll) with their rank and heat.

A board that cannot be read (blocked, a changed layout after the parse retries, a failed download) is not
recorded at all, so its entries are never marked gone by a failed poll; the run is unhealthy with the reason
and the other boards are still read. The next poll is the retry: no long backoff inside one poll.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy.http import Response

from crawlers import hotpoll
from crawlers.parsers import PARSERS, Blocked, ParseError
from crawlers.spiders.base import PlatformSpider
from crawlers.watchlist import load_watchlist

log = logging.getLogger(__name__)


class HotListSpider(PlatformSpider):
    name = "hotlist"  # yuqing.vocab.HOT_SOURCE
    real_hosts = ("weibo.com", "top.baidu.com", "www.zhihu.com", "www.douyin.com")

    def __init__(self, *args: Any, boards: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boards_arg = tuple(b.strip() for b in boards.split(",") if b.strip())
        self.watchlist: Any = None
        self.problems: list[str] = []

    def rebase(self, url: str) -> str:
        """Every board moves onto [crawl] hotlist_base_url when it is set (the demo serves all four)."""
        base = str(self.yq_settings.crawl.hotlist_base_url).rstrip("/")
        if not base:
            return url
        parts, to = urlsplit(url), urlsplit(base)
        return urlunsplit((to.scheme, to.netloc, parts.path, parts.query, parts.fragment))

    async def start(self) -> AsyncIterator[Any]:
        self.watchlist = load_watchlist(self.yq_settings.crawl.watchlist)
        for board in self.boards_arg or self.watchlist.hotlists.boards:
            yield self.page_request(hotpoll.BOARD_URLS[board], f"hotlist.{board}", parse_meta={"board": board})

    def parse_page(self, response: Response) -> Iterator[Any]:
        key = response.meta["parser"]
        board = key.split(".", 1)[1]
        try:
            result = PARSERS[key](response.body, response.url, now=self.now())
        except Blocked as exc:
            self.crawler.stats.inc_value("yuqing/errors/blocked")
            self.problem(f"{board} blocked: {exc}")
            return
        except ParseError as exc:
            yield from self.unreadable(response, exc)
            if int(response.meta.get("parse_attempt", 0)) >= self.settings.getint("YUQING_PARSE_RETRIES", 3):
                self.problem(f"{board} unreadable: {exc}")
            return
        stats = self.crawler.stats
        stats.inc_value("yuqing/pages")
        stats.inc_value(f"yuqing/pages/{key}")
        stats.inc_value("yuqing/hot/entries", len(result.entries))
        stats.inc_value("yuqing/hot/ads", int(result.cursor.get("ads", 0)))
        yield from result.rejected
        tracks = hotpoll.record(self.ops, board, result.entries, self.watchlist, self.now())
        for t in tracks:
            stats.inc_value(f"yuqing/hot/{t.status}")
        stats.inc_value("yuqing/hot/watched", sum(1 for t in tracks if t.status != "gone"))

    def problem(self, reason: str) -> None:
        """A board that could not be read this poll: the run is unhealthy, the other boards go on."""
        log.error("hot list %s", reason)
        self.problems.append(reason)
        self.unhealthy_reason = "; ".join(self.problems)

    def failed(self, failure: Any) -> None:
        super().failed(failure)
        from scrapy.exceptions import IgnoreRequest

        if not failure.check(IgnoreRequest):
            board = str(failure.request.meta.get("parse_meta", {}).get("board", "?"))
            self.problem(f"{board} failed: {failure.value}")
