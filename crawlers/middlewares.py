"""Downloader middlewares: secrets from the environment, Zhihu login, Heimao and Bilibili request signing,
exponential backoff when blocked."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future

log = logging.getLogger(__name__)
BLOCK_STATUSES = (418, 432, 403, 412)  # 412: Bilibili's 安全风控 refusal


async def pause(seconds: float) -> None:
    """Sleep without blocking the reactor."""
    if seconds > 0:
        from twisted.internet import reactor  # the one Scrapy installed; importing earlier would pick another
        from twisted.internet.task import deferLater

        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))  # type: ignore[arg-type]


def close_source(crawler: Any, reason: str) -> None:
    """Stop this source only: mark the spider unhealthy and close it (other sources run in other processes)."""
    spider = crawler.spider
    if not getattr(spider, "unhealthy_reason", ""):
        spider.unhealthy_reason = reason
        log.error("source %s unhealthy: %s", getattr(spider, "name", "?"), reason)
        deferred_from_coro(crawler.engine.close_spider_async(reason="unhealthy"))


class SecretsMiddleware:
    """Cookie and proxy from the environment (YUQING_CRAWL_<SOURCE>_COOKIE, YUQING_CRAWL_PROXY); never logged."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> SecretsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        yq = getattr(spider, "yq_settings", None)
        if yq is None or request.url.endswith("/robots.txt"):
            return None
        cookie = getattr(yq.crawl, f"{spider.name}_cookie", "")
        if cookie and b"Cookie" not in request.headers:
            request.headers["Cookie"] = cookie
        if yq.crawl.proxy and "proxy" not in request.meta:
            request.meta["proxy"] = yq.crawl.proxy
        return None


class ZhihuAuthMiddleware:
    """Zhihu's API wants a logged-in cookie (and, today, a signed x-zse-96 header).

    The cookie comes from YUQING_CRAWL_ZHIHU_COOKIE; requests are signed by crawlers.zhihu_sign:sign unless the
    YUQING_ZHIHU_SIGNER setting names another signer ("module:function", called as signer(request) -> headers).
    When the site demands a login we do not have, the source is marked unhealthy with that reason.
    """

    def __init__(self, crawler: Any, signer: Any) -> None:
        self.crawler = crawler
        self.signer = signer

    @classmethod
    def from_crawler(cls, crawler: Any) -> ZhihuAuthMiddleware:
        from importlib import import_module

        path = crawler.settings.get("YUQING_ZHIHU_SIGNER", "") or "crawlers.zhihu_sign:sign"
        module, _, name = path.partition(":")
        return cls(crawler, getattr(import_module(module), name))

    def _zhihu(self) -> bool:
        return getattr(self.crawler.spider, "name", "") == "zhihu"

    def process_request(self, request: Request) -> None:
        if self._zhihu() and self.signer is not None and not request.url.endswith("/robots.txt"):
            for key, value in (self.signer(request) or {}).items():
                request.headers[key] = value
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if not self._zhihu() or response.status not in (401, 403):
            return response
        has_cookie = bool(getattr(self.crawler.spider.yq_settings.crawl, "zhihu_cookie", ""))
        if response.status == 401 or not has_cookie:
            what = "登录 cookie (set YUQING_CRAWL_ZHIHU_COOKIE)" if not has_cookie else "a valid login (cookie expired?)"
            self.crawler.stats.inc_value(f"yuqing/errors/http_{response.status}")
            close_source(self.crawler, f"zhihu demands {what}: HTTP {response.status} on {request.url}")
            raise IgnoreRequest(f"zhihu login required ({response.status})")
        return response


class BackoffMiddleware:
    """418 / 432 / 403 / 412: retry with exponential backoff; after YUQING_BLOCK_RETRIES the source is unhealthy.

    Requests carrying meta["backoff_delay"] (set here or by a spider after a captcha page) wait that long first.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.retries = crawler.settings.getint("YUQING_BLOCK_RETRIES", 3)
        self.base = crawler.settings.getfloat("YUQING_BACKOFF_BASE_SECONDS", 30.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffMiddleware:
        if crawler.settings.getint("YUQING_BLOCK_RETRIES", 3) < 0:
            raise NotConfigured("backoff disabled")
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        delay = float(request.meta.get("backoff_delay") or 0)
        if delay:
            await pause(delay)
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in BLOCK_STATUSES or request.url.endswith("/robots.txt"):
            return response
        kind = f"http_{response.status}"
        self.crawler.stats.inc_value(f"yuqing/errors/{kind}")
        retry = backoff_retry(request, self.retries, self.base)
        if retry is not None:
            log.warning("%s on %s: backing off %.1fs", response.status, request.url, retry.meta["backoff_delay"])
            return retry
        close_source(self.crawler, f"blocked: HTTP {response.status} {self.retries + 1} times in a row ({request.url})")
        raise IgnoreRequest(f"blocked {response.status}")


def backoff_retry(request: Request, retries: int, base: float) -> Request | None:
    """The request again after base * 2**n seconds, or None when it was retried `retries` times."""
    n = int(request.meta.get("block_attempt", 0))
    if n >= retries:
        return None
    meta = {**request.meta, "block_attempt": n + 1, "backoff_delay": base * (2**n)}
    return request.replace(dont_filter=True, meta=meta)


class HeimaoSignMiddleware:
    """Signs Heimao's search API requests (crawlers.heimao_sign) when the scheduler releases them, after any
    backoff wait, so the timestamp is that of sending; a retry after a block is signed afresh."""

    def __init__(self, crawler: Any) -> None:
        import random

        self.crawler = crawler
        self.rng = random.Random()

    @classmethod
    def from_crawler(cls, crawler: Any) -> HeimaoSignMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        import time

        from crawlers.heimao_sign import needs_signature, sign_url

        if getattr(self.crawler.spider, "name", "") != "heimao" or not needs_signature(request.url):
            return None
        attempt = int(request.meta.get("block_attempt", 0))
        if request.meta.get("heimao_signed") == [request.url, attempt]:
            return None  # signed on its way here: send it
        url = sign_url(request.url, int(time.time() * 1000), self.rng)
        self.crawler.stats.inc_value("yuqing/heimao_signed")
        # the signed request goes back through the scheduler and this chain; the backoff wait is already over
        meta = {**request.meta, "heimao_signed": [url, attempt], "backoff_delay": 0}
        return request.replace(url=url, meta=meta, dont_filter=True)


class BilibiliSignMiddleware:
    """Signs Bilibili's WBI requests (crawlers.bilibili_sign) with the keys the spider read from the nav API, when
    the scheduler releases them (wts is the time of sending); a retry after a block is signed afresh. Without keys
    (nav unreadable) requests go out unsigned and the site's -352 marks the source unhealthy."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> BilibiliSignMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        import time

        from crawlers.bilibili_sign import needs_signature, sign_url

        spider = self.crawler.spider
        keys = getattr(spider, "wbi_keys", None)
        if getattr(spider, "name", "") != "bilibili" or not keys or not needs_signature(request.url):
            return None
        attempt = int(request.meta.get("block_attempt", 0))
        if request.meta.get("wbi_signed") == [request.url, attempt]:
            return None  # signed on its way here: send it
        url = sign_url(request.url, keys[0], keys[1], int(time.time()))
        self.crawler.stats.inc_value("yuqing/wbi_signed")
        meta = {**request.meta, "wbi_signed": [url, attempt], "backoff_delay": 0}
        return request.replace(url=url, meta=meta, dont_filter=True)
