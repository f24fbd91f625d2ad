"""What every platform spider shares: call the parser named in the request, yield posts and follow-ups.

Paging is incremental: a search stops when a page holds only posts already stored and older
than the last successful run, or after YUQING_MAX_PAGES pages. Truncated or unknown pages are
fetched again (YUQING_PARSE_RETRIES) and then recorded as rejected; a page that says we are
blocked backs off exponentially, then marks the source unhealthy and stops it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from crawlers.middlewares import backoff_retry, close_source
from crawlers.parsers import PARSERS, Blocked, PageRequest, ParseError, ParseResult
from yuqing.records import Post, Rejected

log = logging.getLogger(__name__)


class PlatformSpider(scrapy.Spider):
    """A thin spider: builds requests, calls a pure parser, yields Post / Rejected items and requests."""

    name = ""
    real_hosts: tuple[str, ...] = ()  # hosts the parsers write into absolute URLs; rebased onto base_url
    search_parsers: tuple[str, ...] = ()  # parser keys whose follow-ups of the same key are next pages

    def __init__(self, *args: Any, keywords: str | Iterable[str] = "", max_pages: int | str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",") if k.strip()]
        self.keywords = list(keywords)
        self.max_pages_arg = int(max_pages) if max_pages else None
        self.unhealthy_reason = ""
        self.index: Any = None  # PostIndex: seen posts, posts to follow
        self.ops: Any = None  # OpsDB: cursors, rejected pages, replied cases
        self.yq_settings: Any = None
        self.last_success: datetime | None = None
        self.started_at = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, index: Any = None, ops: Any = None, yq_settings: Any = None,
                     **kwargs: Any) -> PlatformSpider:
        """The stores and settings come from the runner (crawlers.runner opens them once per crawl process) or a
        test; run any other way (`scrapy crawl`), the process's stores are opened by yuqing.wiring."""
        spider: PlatformSpider = super().from_crawler(crawler, *args, **kwargs)
        from yuqing.config import load_settings

        spider.yq_settings = yq_settings or load_settings(crawler.settings.get("YUQING_CONFIG") or None)
        if index is None or ops is None:
            from yuqing.wiring import shared_stores

            index, ops = shared_stores(spider.yq_settings)
        spider.attach(index, ops)
        return spider

    # --- seams for tests
    def attach(self, index: Any, ops: Any) -> None:
        """Use these stores for seen ids, cursors and rejected pages; reads the last successful run."""
        self.index, self.ops = index, ops
        raw = ops.get_cursor(self.name, "last_success")
        self.last_success = datetime.fromisoformat(raw) if raw else None

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def max_pages(self) -> int:
        if self.max_pages_arg:
            return self.max_pages_arg
        return int(self.settings.getint("YUQING_MAX_PAGES", 10)) if hasattr(self, "crawler") else 10

    @property
    def base_url(self) -> str:
        return str(getattr(self.yq_settings.crawl, f"{self.name}_base_url")).rstrip("/")

    def watch_keywords(self) -> list[str]:
        """Search words: the spider argument, else the watchlist's keywords for this source."""
        if self.keywords:
            return self.keywords
        from crawlers.watchlist import load_watchlist

        return list(load_watchlist(self.yq_settings.crawl.watchlist).keywords_for(self.name))

    # --- requests
    def rebase(self, url: str) -> str:
        """An absolute URL on the real host (as parsers write them) moved onto the configured base URL."""
        parts = urlsplit(url)
        if not parts.netloc:
            return self.base_url + (url if url.startswith("/") else "/" + url)
        if parts.hostname in self.real_hosts:
            base = urlsplit(self.base_url)
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))
        return url

    def page_request(self, url: str, parser: str, *, parse_meta: Mapping[str, Any] | None = None,
                     query: Mapping[str, Any] | None = None, priority: int = 0) -> scrapy.Request:
        """A request for `parser`. Search pages (those with a `query`) skip the duplicate filter: a run
        resumed from its JOBDIR pages its searches again, so a page lost in flight when it was killed is
        fetched again; the store's idempotent writes keep every post once."""
        meta = {"parser": parser, "parse_meta": dict(parse_meta or {}), "query": dict(query or {})}
        return scrapy.Request(self.rebase(url), callback=self.parse_page, errback=self.failed, meta=meta,
                              priority=priority, dont_filter=bool(query))

    # --- responses
    def parse_page(self, response: Response) -> Iterator[Any]:
        key = response.meta["parser"]
        began = time.perf_counter()
        try:
            result = PARSERS[key](response.body, response.url, now=self.now(), meta=response.meta.get("parse_meta"))
        except Blocked as exc:
            yield from self.blocked(response, str(exc))
            return
        except ParseError as exc:
            yield from self.unreadable(response, exc)
            return
        finally:
            self.crawler.stats.inc_value("yuqing/parse_seconds", time.perf_counter() - began)
        self.crawler.stats.inc_value("yuqing/pages")
        self.crawler.stats.inc_value(f"yuqing/pages/{key}")
        yield from result.posts
        yield from result.rejected
        yield from self.follow(response, result)

    def follow(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        """Follow-up requests: next pages under the paging rules, everything else as the parser asked."""
        key = response.meta["parser"]
        query = dict(response.meta.get("query") or {})
        for req in result.requests:
            if req.parser == key and key in self.search_parsers:
                nxt = self.next_page(response, result, req, query)
                if nxt is not None:
                    yield nxt
            elif req.parser == key:  # the next page of answers / comments / a list: at most max_pages deep
                depth = int(response.meta.get("chain", 1))
                if depth < self.max_pages:
                    request = self.page_request(req.url, req.parser, parse_meta=req.meta, priority=req.priority + 1)
                    request.meta["chain"] = depth + 1
                    yield request
            else:
                yield self.page_request(req.url, req.parser, parse_meta=req.meta, priority=req.priority + 1)

    def next_page(self, response: Response, result: ParseResult, req: PageRequest,
                  query: dict[str, Any]) -> scrapy.Request | None:
        page = int(query.get("page", 1))
        if page >= self.max_pages:
            self.crawler.stats.inc_value("yuqing/paging/max_pages")
            return None
        if self.nothing_new(result.posts):
            self.crawler.stats.inc_value("yuqing/paging/caught_up")
            return None
        return self.page_request(req.url, req.parser, parse_meta=req.meta, query={**query, "page": page + 1})

    def nothing_new(self, posts: list[Post]) -> bool:
        """True when every post is already stored and older than the last successful run."""
        if not posts or self.last_success is None:
            return False
        if any(p.published_at >= self.last_success for p in posts):
            return False
        ids = [p.post_id for p in posts]
        return len(self.index.seen_ids(self.name, ids)) == len(set(ids))

    def unreadable(self, response: Response, exc: ParseError) -> Iterator[Any]:
        """A truncated or changed page: fetch it again a few times, then record it as rejected."""
        self.crawler.stats.inc_value("yuqing/errors/parse")
        attempt = int(response.meta.get("parse_attempt", 0))
        if attempt < self.settings.getint("YUQING_PARSE_RETRIES", 3):
            log.warning("unreadable page (attempt %d), fetching again: %s", attempt + 1, exc)
            meta = {**response.meta, "parse_attempt": attempt + 1}
            yield response.request.replace(dont_filter=True, meta=meta)
            return
        log.error("giving up on %s: %s", response.url, exc)
        yield Rejected(source=self.name, stage="parse", reason=str(exc)[:300], url=response.url,
                       sample=response.text[:500] if hasattr(response, "text") else "", at=self.now())

    def blocked(self, response: Response, reason: str) -> Iterator[Any]:
        """A captcha / login wall / rate-limit page: back off, then give the source up."""
        self.crawler.stats.inc_value("yuqing/errors/blocked")
        retry = backoff_retry(response.request, self.settings.getint("YUQING_BLOCK_RETRIES", 3),
                              self.settings.getfloat("YUQING_BACKOFF_BASE_SECONDS", 30.0))
        if retry is not None:
            log.warning("blocked page, backing off %.1fs: %s", retry.meta["backoff_delay"], reason)
            yield retry
            return
        close_source(self.crawler, f"blocked: {reason}")

    def failed(self, failure: Any) -> None:
        """Download errors after Scrapy's retries: counted by kind, the page recorded as rejected."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        if failure.check(HttpError):
            kind = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            return
        else:
            kind = type(failure.value).__name__.lower()
        self.crawler.stats.inc_value(f"yuqing/errors/{kind}")
        request = failure.request
        log.error("failed %s: %s", request.url, failure.value)
        self.ops.record_rejected([Rejected(source=self.name, stage="fetch", reason=kind, url=request.url,
                                           sample=str(failure.value)[:300], at=self.now())])
        self.crawler.stats.inc_value("yuqing/rejected")
