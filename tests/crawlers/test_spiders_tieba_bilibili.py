"""The Tieba and Bilibili spiders on in-memory responses from the demo renderers: which requests they make, the
WBI signing middleware, and the incremental state they keep."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapy.http import Request, TextResponse

from crawlers.bilibili_sign import verify
from crawlers.middlewares import BilibiliSignMiddleware
from crawlers.spiders.bilibili import BilibiliSpider
from crawlers.spiders.tieba import TiebaSpider
from crawlers.spiders.weibo import WeiboSpider
from demo.platforms import bilibili as demo_bilibili
from demo.scenario import load_scenario
from demo.server import DemoSite
from tests.crawlers.test_spiders_middlewares import spider_for
from yuqing.config import Settings
from yuqing.records import Post

BASE = "http://127.0.0.1:9"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def spider(cls: type, tmp_path: Path, keywords: str = "中国电信") -> Any:
    yq = Settings().replace(crawl={f"{cls.name}_base_url": BASE})
    s = spider_for(cls, tmp_path, yq)
    s.keywords = [keywords] if keywords else []  # [] = the watchlist's keywords (and bars)
    return s


def starts(s: Any) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in s.start()]
    return asyncio.run(collect())


def answer(site: DemoSite, platform: str, req: Request) -> TextResponse:
    resp = site.serve(platform, req.url[len(BASE):])
    return TextResponse(url=req.url, body=resp.body, status=resp.status, request=req, encoding="utf-8")


def run(s: Any, site: DemoSite, platform: str, req: Request) -> tuple[list[Post], list[Request]]:
    out = list(s.parse_page(answer(site, platform, req)))
    return [o for o in out if isinstance(o, Post)], [o for o in out if isinstance(o, Request)]


def test_wbi_middleware_signs_with_the_spiders_keys_and_again_on_a_retry(tmp_path: Path) -> None:
    s = spider(BilibiliSpider, tmp_path)
    middleware = BilibiliSignMiddleware.from_crawler(s.crawler)
    request = s.page_request(s.search_url("中国电信"), "bilibili.search", query={"page": 1})
    assert middleware.process_request(request) is None  # no keys yet: sent unsigned, the site answers -352
    s.wbi_keys = (demo_bilibili.IMG_KEY, demo_bilibili.SUB_KEY)
    signed = middleware.process_request(request)
    assert signed is not None and middleware.process_request(signed) is None
    query = {k: v[0] for k, v in parse_qs(urlsplit(signed.url).query).items()}
    assert verify(query, demo_bilibili.IMG_KEY, demo_bilibili.SUB_KEY) and query["keyword"] == "中国电信"
    retry = signed.replace(meta={**signed.meta, "block_attempt": 1})
    assert middleware.process_request(retry) is not None  # signed afresh
    nav = s.page_request(s.nav_url(), "bilibili.nav")
    assert middleware.process_request(nav) is None  # nav is not a WBI call
    other = spider_for(WeiboSpider, tmp_path / "w", Settings())
    other.wbi_keys = s.wbi_keys
    assert BilibiliSignMiddleware.from_crawler(other.crawler).process_request(request) is None


def test_bilibili_searches_after_nav_and_follows_comments_of_changed_watched_videos(tmp_path: Path) -> None:
    site = DemoSite(load_scenario(), start=START, clock=lambda: START + timedelta(seconds=60))
    s = spider(BilibiliSpider, tmp_path, keywords="宽带")
    [nav] = starts(s)
    _, searches = run(s, site, "bilibili", nav)
    assert s.wbi_keys == (demo_bilibili.IMG_KEY, demo_bilibili.SUB_KEY) and len(searches) == 1
    middleware = BilibiliSignMiddleware.from_crawler(s.crawler)
    videos, follow = run(s, site, "bilibili", middleware.process_request(searches[0]))
    assert [v.post_id for v in videos] == ["av113563000000001", "av113500000000001"]
    comments = [r for r in follow if r.meta["parser"] == "bilibili.comments"]
    assert [r.meta["parse_meta"]["aid"] for r in comments] == ["113563000000001", "113500000000001"]
    s.videos["113563000000001"] = [7, 0]  # read before, and no comment since
    _, follow = run(s, site, "bilibili", middleware.process_request(searches[0]))
    assert [r.meta["parse_meta"]["aid"] for r in follow if r.meta["parser"] == "bilibili.comments"] == ["113500000000001"]
    s.closed("finished")
    assert json.loads(s.ops.get_cursor("bilibili", "videos")) == {"113563000000001": [7, 0]}


def test_tieba_starts_with_searches_and_bars_and_skips_unchanged_threads(tmp_path: Path) -> None:
    site = DemoSite(load_scenario(), start=START, clock=lambda: START + timedelta(seconds=60))
    s = spider(TiebaSpider, tmp_path, keywords="")
    first = starts(s)
    parsers = [r.meta["parser"] for r in first]
    assert parsers.count("tieba.search") == 5 and parsers.count("tieba.forum") == 4
    zhengzhou = next(r for r in first if "kw=%E9%83%91%E5%B7%9E" in r.url)
    stubs, follow = run(s, site, "tieba", zhengzhou)
    assert [p.post_id for p in stubs] == ["t9288000001"] and stubs[0].comments == 4
    assert [r.url for r in follow if r.meta["parser"] == "tieba.thread"] == [f"{BASE}/p/9288000001"]
    s.threads["9288000001"], s.requested = [4, 2, 1], set()  # read to its end before, 4 replies then
    _, follow = run(s, site, "tieba", zhengzhou)
    assert [r for r in follow if r.meta["parser"] in ("tieba.thread", "tieba.forum")] == []
    s.threads["9288000001"], s.requested = [3, 2, 1], set()  # one floor more since: read on from page 2
    _, follow = run(s, site, "tieba", zhengzhou)
    [resumed] = [r for r in follow if r.meta["parser"] == "tieba.thread"]
    assert resumed.url == f"{BASE}/p/9288000001?pn=2"
    floors, more = run(s, site, "tieba", resumed)
    assert [p.extra["floor"] for p in floors] == [4, 5]
    assert sorted(r.url.split("pn=")[1].split("&")[0] for r in more if r.meta["parser"] == "tieba.replies") == ["1"]
    assert s.threads["9288000001"] == [4, 2, 1]
    s.closed("finished")
    assert json.loads(s.ops.get_cursor("tieba", "threads"))["9288000001"] == [4, 2, 1]
