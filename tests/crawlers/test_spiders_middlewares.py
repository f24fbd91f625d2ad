"""Downloader middlewares: secrets from the environment (never logged), Zhihu's login wall, polite defaults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from crawlers import settings as crawl_settings
from crawlers.middlewares import SecretsMiddleware, ZhihuAuthMiddleware
from crawlers.settings import scrapy_settings
from crawlers.spiders.weibo import WeiboSpider
from crawlers.spiders.zhihu import ZhihuSpider
from tests.conftest import Both
from yuqing.config import Settings, load_settings
from yuqing.wiring import open_stores

COOKIE = "SUB=secret-cookie-value"


def spider_for(cls: type, tmp_path: Path, yq: Settings) -> Any:
    defaults = {k: getattr(crawl_settings, k) for k in dir(crawl_settings) if k.isupper()}
    crawler = get_crawler(cls, defaults)
    store = Both(*open_stores(yq.replace(store={"path": str(tmp_path / "t.db")})))
    spider = cls.from_crawler(crawler, keywords="中国电信", index=store.index, ops=store.ops, yq_settings=yq)
    crawler.spider = spider
    return spider


def test_cookie_and_proxy_come_from_the_environment_and_are_not_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    yq = load_settings(env={"YUQING_CRAWL_WEIBO_COOKIE": COOKIE, "YUQING_CRAWL_PROXY": "http://127.0.0.1:3128"})
    spider = spider_for(WeiboSpider, tmp_path, yq)
    middleware = SecretsMiddleware.from_crawler(spider.crawler)
    caplog.set_level(logging.DEBUG)
    request = spider.start_requests_list()[0]
    middleware.process_request(request)
    assert request.headers["Cookie"].decode() == COOKIE
    assert request.meta["proxy"] == "http://127.0.0.1:3128"
    robots = Request("http://127.0.0.1:9/robots.txt")
    middleware.process_request(robots)
    assert b"Cookie" not in robots.headers
    assert COOKIE not in caplog.text


def test_a_cookie_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    from yuqing.config import ConfigError

    path = tmp_path / "y.toml"
    path.write_text(f'[crawl]\nweibo_cookie = "{COOKIE}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="environment"):
        load_settings(path, env={})


def test_zhihu_login_wall_marks_only_that_source_unhealthy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spider = spider_for(ZhihuSpider, tmp_path, Settings())
    closed: list[str] = []
    spider.crawler.engine = type("E", (), {"close_spider_async": lambda self, reason: closed.append(reason)})()
    monkeypatch.setattr("crawlers.middlewares.deferred_from_coro", lambda value: value)
    middleware = ZhihuAuthMiddleware.from_crawler(spider.crawler)
    request = Request("http://127.0.0.1:9/api/v4/search_v3?q=x")
    ok = TextResponse(request.url, status=200, body=b"{}", request=request)
    assert middleware.process_response(request, ok) is ok
    wall = TextResponse(request.url, status=403, body=b'{"error":{"code":40362}}', request=request)
    with pytest.raises(IgnoreRequest):
        middleware.process_response(request, wall)
    assert "YUQING_CRAWL_ZHIHU_COOKIE" in spider.unhealthy_reason and closed == ["unhealthy"]


def test_polite_by_default_and_benchmarks_can_opt_out(caplog: pytest.LogCaptureFixture) -> None:
    assert crawl_settings.ROBOTSTXT_OBEY and crawl_settings.AUTOTHROTTLE_ENABLED and crawl_settings.DOWNLOAD_DELAY > 0
    polite = scrapy_settings(Settings(), "weibo")
    assert polite["ROBOTSTXT_OBEY"] and polite["AUTOTHROTTLE_ENABLED"] and polite["DOWNLOAD_DELAY"] == 2.0
    with caplog.at_level(logging.WARNING):
        override = scrapy_settings(Settings(), "zhidao", ignore_robots=("zhidao",))
    assert override["ROBOTSTXT_OBEY"] is False and "robots.txt is NOT obeyed for zhidao" in caplog.text
    fast = scrapy_settings(Settings(), "weibo", politeness=False)
    assert fast["DOWNLOAD_DELAY"] == 0 and not fast["AUTOTHROTTLE_ENABLED"]
