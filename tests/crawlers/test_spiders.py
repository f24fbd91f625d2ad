"""Spider callbacks on in-memory responses: requests built, parser called, paging rules, retries, backoff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from crawlers import settings as crawl_settings
from crawlers.middlewares import BackoffMiddleware
from crawlers.spiders.weibo import WeiboSpider, split_window, timescope
from crawlers.spiders.zhidao import ZhidaoSpider
from crawlers.spiders.zhihu import ZhihuSpider
from demo.scenario import load_scenario
from demo.server import DemoSite
from tests.conftest import Both
from yuqing.config import Settings
from yuqing.records import Post, Rejected
from yuqing.wiring import open_stores

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:9"


def scrapy_defaults(**extra: Any) -> dict[str, Any]:
    values = {k: getattr(crawl_settings, k) for k in dir(crawl_settings) if k.isupper()}
    return {**values, **extra}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = Both(*open_stores(Settings().replace(store={"path": str(tmp_path / "t.db")})))
    yield s
    s.close()


def make_spider(cls: type, store: Any, **settings: Any) -> Any:
    yq = Settings().replace(crawl={f"{cls.name}_base_url": BASE})
    crawler = get_crawler(cls, scrapy_defaults(**settings))
    spider = cls.from_crawler(crawler, keywords="中国电信", index=store.index, ops=store.ops, yq_settings=yq)
    crawler.spider = spider
    spider.now = lambda: NOW  # type: ignore[method-assign]
    return spider


def respond(req: Request, body: bytes | str, status: int = 200) -> TextResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return TextResponse(url=req.url, body=data, status=status, request=req, encoding="utf-8")


def mblog(i: int, at: datetime, text: str = "中国电信宽带又断网了") -> dict[str, Any]:
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    return {"id": str(5000 + i), "mid": str(5000 + i), "text": f"{text}{i}", "isLongText": False,
            "created_at": local.strftime("%a %b %d %H:%M:%S +0800 %Y"), "reposts_count": 0, "comments_count": 0,
            "attitudes_count": 0, "region_name": "发布于 河南",
            "user": {"id": 1, "screen_name": "u", "verified": False, "followers_count": 3}}


def search_body(mblogs: list[dict[str, Any]], next_page: int | None) -> str:
    info: dict[str, Any] = {"total": 999}
    if next_page:
        info["page"] = next_page
    return json.dumps({"ok": 1, "data": {"cardlistInfo": info,
                                         "cards": [{"card_type": 9, "mblog": m} for m in mblogs]}})


def split(results: list[Any]) -> tuple[list[Post], list[Request], list[Rejected]]:
    return ([r for r in results if isinstance(r, Post)], [r for r in results if isinstance(r, Request)],
            [r for r in results if isinstance(r, Rejected)])


def test_start_requests_search_both_types_on_the_configured_host(store: Any) -> None:
    spider = make_spider(WeiboSpider, store)
    urls = [r.url for r in spider.start_requests_list()]
    assert len(urls) == 2 and all(u.startswith(BASE + "/api/container/getIndex?") for u in urls)
    assert any("type%3D61" in u for u in urls) and any("type%3D1%26" in u for u in urls)
    assert all("%E4%B8%AD%E5%9B%BD%E7%94%B5%E4%BF%A1" in u for u in urls)


def test_search_page_yields_posts_next_page_and_extend_on_the_demo_host(store: Any) -> None:
    site = DemoSite(load_scenario(), start=NOW - timedelta(minutes=5), clock=lambda: NOW)
    spider = make_spider(WeiboSpider, store)
    req = spider.search("记者", "61")
    resp = site.respond("weibo", req.url[len(BASE):])
    posts, requests, rejected = split(list(spider.parse_page(respond(req, resp.body))))
    assert posts and not rejected
    assert all(p.platform == "weibo" and p.keyword == "记者" for p in posts)
    extend = [r for r in requests if r.meta["parser"] == "weibo.extend"]
    assert extend and extend[0].url.startswith(BASE + "/statuses/extend?id=")  # rebased from m.weibo.cn
    hotflow = [r for r in requests if r.meta["parser"] == "weibo.hotflow"]
    assert hotflow, "a post with thousands of comments is followed"
    full = site.respond("weibo", extend[0].url[len(BASE):])
    (long_post,), _, _ = split(list(spider.parse_page(respond(extend[0], full.body))))
    assert "本台将持续关注" in long_post.text


def test_paging_stops_when_a_page_holds_only_old_seen_posts(store: Any) -> None:
    spider = make_spider(WeiboSpider, store)
    old = [mblog(i, NOW - timedelta(hours=5)) for i in range(3)]
    req = spider.search("中国电信", "61")
    # not seen yet: follow page 2
    _, requests, _ = split(list(spider.parse_page(respond(req, search_body(old, 2)))))
    assert [r.meta["query"]["page"] for r in requests if r.meta["parser"] == "weibo.search"] == [2]
    # stored, and the last successful run is after them: caught up
    store.upsert_posts([(Post(platform="weibo", post_id=m["id"], text="x", published_at=NOW - timedelta(hours=5)),
                         None) for m in old])
    store.set_cursor("weibo", "last_success", (NOW - timedelta(hours=1)).isoformat(), NOW)
    spider.attach(store.index, store.ops)
    _, requests, _ = split(list(spider.parse_page(respond(req, search_body(old, 2)))))
    assert not [r for r in requests if r.meta["parser"] == "weibo.search"]
    assert spider.crawler.stats.get_value("yuqing/paging/caught_up") == 1
    # one new post on the page: keep paging
    fresh = old + [mblog(9, NOW - timedelta(minutes=5))]
    _, requests, _ = split(list(spider.parse_page(respond(req, search_body(fresh, 2)))))
    assert [r for r in requests if r.meta["parser"] == "weibo.search"]


def test_comprehensive_search_stops_at_max_pages(store: Any) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_MAX_PAGES=2)
    req = spider.search("中国电信", "1")
    req.meta["query"]["page"] = 2
    _, requests, _ = split(list(spider.parse_page(respond(req, search_body([mblog(1, NOW)], 3)))))
    assert not [r for r in requests if r.meta["parser"] == "weibo.search"]


def test_saturated_query_is_split_by_timescope(store: Any) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_WEIBO_PAGE_CAP=3, YUQING_LOOKBACK_HOURS=4)
    req = spider.search("中国电信", "61")
    req.meta["query"]["page"] = 3
    _, requests, _ = split(list(spider.parse_page(respond(req, search_body([mblog(1, NOW)], None)))))
    halves = [r for r in requests if "timescope" in r.url]
    assert len(halves) == 2
    assert all(r.meta["query"]["page"] == 1 and r.meta["query"]["window"] for r in halves)
    assert "custom%3A2026-11-24-5%3A2026-11-24-7" in halves[0].url  # 10:00 Shanghai minus 4h look-back, minus 1h
    assert "custom%3A2026-11-24-8%3A2026-11-24-10" in halves[1].url
    assert spider.crawler.stats.get_value("yuqing/paging/split") == 1


def test_split_window_and_timescope() -> None:
    start = datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert split_window(start, start) == []
    a, b = split_window(start, start + timedelta(hours=3))
    assert a == (start, start + timedelta(hours=1)) and b == (start + timedelta(hours=2), start + timedelta(hours=3))
    assert timescope(start, start + timedelta(hours=15)) == "custom:2026-11-24-9:2026-11-25-0"


def test_truncated_page_is_fetched_again_then_rejected(store: Any) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_PARSE_RETRIES=2)
    req = spider.search("中国电信", "61")
    broken = search_body([mblog(1, NOW)], 2)[:40]
    (retry,) = list(spider.parse_page(respond(req, broken)))
    assert isinstance(retry, Request) and retry.dont_filter and retry.meta["parse_attempt"] == 1
    (again,) = list(spider.parse_page(respond(retry, broken)))
    (rejected,) = list(spider.parse_page(respond(again, broken)))
    assert isinstance(rejected, Rejected) and rejected.stage == "parse" and "truncated" in rejected.reason
    assert spider.crawler.stats.get_value("yuqing/errors/parse") == 3


def test_layout_change_is_loud(store: Any) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_PARSE_RETRIES=0)
    req = spider.search("中国电信", "61")
    (rejected,) = list(spider.parse_page(respond(req, '{"ok":1,"result":{"list":[]}}')))
    assert isinstance(rejected, Rejected) and "changed layout" in rejected.reason


def test_blocked_page_backs_off_exponentially_then_marks_the_source(store: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_BLOCK_RETRIES=2, YUQING_BACKOFF_BASE_SECONDS=10)
    closed: list[str] = []
    spider.crawler.engine = type("E", (), {"close_spider_async": lambda self, reason: closed.append(reason)})()
    monkeypatch.setattr("crawlers.middlewares.deferred_from_coro", lambda value: value)  # fake engine: no coroutine
    wall = json.dumps({"ok": -100, "url": "https://passport.weibo.cn/signin/welcome"})
    req = spider.search("中国电信", "61")
    (r1,) = list(spider.parse_page(respond(req, wall)))
    (r2,) = list(spider.parse_page(respond(r1, wall)))
    assert (r1.meta["backoff_delay"], r2.meta["backoff_delay"]) == (10, 20)
    assert list(spider.parse_page(respond(r2, wall))) == []
    assert spider.unhealthy_reason.startswith("blocked") and closed == ["unhealthy"]


def test_backoff_middleware_retries_418_and_432(store: Any) -> None:
    spider = make_spider(WeiboSpider, store, YUQING_BLOCK_RETRIES=3, YUQING_BACKOFF_BASE_SECONDS=1)
    crawler = spider.crawler
    middleware = BackoffMiddleware.from_crawler(crawler)
    req = Request(BASE + "/api/container/getIndex?x=1")
    delays = []
    for status in (418, 432, 403):
        retry = middleware.process_response(req, TextResponse(req.url, status=status, body=b"", request=req))
        assert isinstance(retry, Request)
        delays.append(retry.meta["backoff_delay"])
        req = retry
    assert delays == [1, 2, 4]
    assert crawler.stats.get_value("yuqing/errors/http_418") == 1
    ok = TextResponse(req.url, status=200, body=b"{}", request=req)
    assert middleware.process_response(req, ok) is ok


def test_zhihu_follows_question_answers(store: Any) -> None:
    spider = make_spider(ZhihuSpider, store)
    body = {"paging": {"is_end": True}, "data": [{"type": "search_result", "object": {
        "type": "answer", "id": 11, "content": "<p>中国电信宽带断网</p>", "created_time": 1763900000,
        "updated_time": 1763900000, "voteup_count": 3, "comment_count": 1,
        "question": {"id": 640010002, "name": "如何看待郑州电信宽带大面积断网？", "type": "question"},
        "author": {"name": "a", "url_token": "a"}}}]}
    req = spider.page_request(spider.search_url("中国电信"), "zhihu.search", parse_meta={"keyword": "中国电信"},
                              query={"keyword": "中国电信", "page": 1})
    posts, requests, _ = split(list(spider.parse_page(respond(req, json.dumps(body)))))
    assert posts and posts[0].parent_id == "q640010002"
    assert [r.url for r in requests] == [BASE + "/api/v4/questions/640010002/answers?limit=20&offset=0&sort_by=updated"]


def test_zhidao_search_url(store: Any) -> None:
    spider = make_spider(ZhidaoSpider, store)
    assert spider.search_url("电信宽带") == BASE + "/search?word=%E7%94%B5%E4%BF%A1%E5%AE%BD%E5%B8%A6&pn=0"


def test_replied_cases_and_influential_posts_have_their_comments_followed(store: Any) -> None:
    from yuqing.records import Analysis, Case

    store.upsert_posts([
        (Post(platform="weibo", post_id="777", text="中国电信断网", published_at=NOW - timedelta(hours=1)),
         Analysis(label="negative", score=0.1)),
        (Post(platform="weibo", post_id="888", text="中国电信宽带大面积断网", published_at=NOW - timedelta(hours=1)),
         Analysis(label="negative", score=0.1, influence=85.0)),
    ])
    store.save_case(Case(platform="weibo", post_id="777", status="replied"))
    spider = make_spider(WeiboSpider, store)
    hotflow = {r.meta["parse_meta"]["parent_id"] for r in spider.start_requests_list()
               if r.meta["parser"] == "weibo.hotflow"}
    assert hotflow == {"777", "888"}
