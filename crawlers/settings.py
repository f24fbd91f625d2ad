"""Scrapy settings for the yuqing crawlers: polite by default (robots.txt, AutoThrottle, per-domain delay).

`scrapy_settings(settings)` maps yuqing's Settings (file + YUQING_* environment) onto these.
Cookies and proxies come from the environment only and are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay is 0.5x-1.5x DOWNLOAD_DELAY
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False  # the Cookie header is set from the environment by SecretsMiddleware
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port in a crawl process
LOG_LEVEL = "WARNING"  # for Scrapy's own loggers; `yuqing -v crawl` shows everything
USER_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
DEFAULT_REQUEST_HEADERS = {"Accept": "application/json, text/plain, */*", "Accept-Language": "zh-CN,zh;q=0.9",
                           "MWeibo-Pwa": "1", "X-Requested-With": "XMLHttpRequest"}

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.SecretsMiddleware": 350,
    "crawlers.middlewares.ZhihuAuthMiddleware": 570,  # sees a 401/403 before the backoff retries it
    "crawlers.middlewares.HeimaoSignMiddleware": 580,  # signs after the backoff wait, just before sending
    "crawlers.middlewares.BilibiliSignMiddleware": 585,  # the same for Bilibili's WBI signature
    "crawlers.middlewares.BackoffMiddleware": 560,
}
ITEM_PIPELINES = {"crawlers.pipelines.StorePipeline": 300}

# yuqing's own knobs
YUQING_CONFIG = ""  # settings file for the spider and pipeline ("" = $YUQING_CONFIG / ./yuqing.toml)
YUQING_MAX_PAGES = 10  # pages per query per run
YUQING_WEIBO_PAGE_CAP = 50  # the search API never shows more pages than this
YUQING_BLOCK_RETRIES = 3  # 418/432/403/412/captcha: retries with exponential backoff before the source is unhealthy
YUQING_BACKOFF_BASE_SECONDS = 30.0
YUQING_PARSE_RETRIES = 3  # truncated or unknown pages are fetched again this many times
YUQING_PIPELINE_BATCH = 200
YUQING_LOOKBACK_HOURS = 72  # first run: how far back to split a saturated search
YUQING_HOTFLOW_MIN_COMMENTS = 200  # follow the comments of weibo posts this discussed
YUQING_IGNORE_ROBOTS = ()  # sources allowed to ignore robots.txt (logs a warning)

log = logging.getLogger(__name__)


def scrapy_settings(settings: Any, source: str, *, politeness: bool = True, **overrides: Any) -> dict[str, Any]:
    """Scrapy setting overrides for one source from yuqing Settings; politeness=False is for benchmarks."""
    crawl = settings.crawl
    out: dict[str, Any] = {
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "YUQING_MAX_PAGES": crawl.max_pages,
        "YUQING_CONFIG": settings.source_file,
    }
    if crawl.zhihu_signer:
        out["YUQING_ZHIHU_SIGNER"] = crawl.zhihu_signer
    if not crawl.obey_robots:
        log.warning("robots.txt is NOT obeyed for %s ([crawl] obey_robots = false)", source)
    if source in overrides.pop("ignore_robots", ()):
        out["ROBOTSTXT_OBEY"] = False
        log.warning("robots.txt is NOT obeyed for %s (per-source override)", source)
    if not politeness:
        out.update(ROBOTSTXT_OBEY=False, AUTOTHROTTLE_ENABLED=False, DOWNLOAD_DELAY=0,
                   CONCURRENT_REQUESTS_PER_DOMAIN=16, CONCURRENT_REQUESTS=32, DOWNLOAD_DELAY_JITTER=0)
    out.update(overrides)
    return out
