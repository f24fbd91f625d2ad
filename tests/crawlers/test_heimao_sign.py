"""Heimao's search API signature: the formula, URL rewriting, and the middleware that signs at send time."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawlers.heimao_sign import SALT, needs_signature, sign_url, signature
from crawlers.middlewares import HeimaoSignMiddleware
from crawlers.spiders.heimao import HeimaoSpider
from crawlers.spiders.weibo import WeiboSpider
from tests.crawlers.test_spiders_middlewares import spider_for
from yuqing.config import Settings

URL = "https://tousu.sina.com.cn/api/index/s?keywords=%E4%B8%AD%E5%9B%BD%E7%94%B5%E4%BF%A1&page=2&page_size=10"


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_signature_is_sha256_of_the_sorted_parts() -> None:
    ts, rs = "1764000000000", "QNT4vu8q79XzrcdM"
    # in code-point order: '$' (0x24) < '10' < '1764…' < '2' < 'Q…' < '中' (0x4E2D)
    joined = SALT + "10" + "1764000000000" + "2" + "QNT4vu8q79XzrcdM" + "中国电信"
    assert signature(ts, rs, "中国电信", "10", "2") == hashlib.sha256(joined.encode("utf-8")).hexdigest()
    assert signature(ts, rs, "中国电信", "10", "3") != signature(ts, rs, "中国电信", "10", "2")


def test_sign_url_replaces_old_signatures_and_keeps_the_query() -> None:
    first = sign_url(URL, 1764000000000, random.Random(1))
    p = params(first)
    assert p["ts"] == "1764000000000" and len(p["rs"]) == 16 and p["rs"].isalnum()
    assert p["signature"] == signature(p["ts"], p["rs"], "中国电信", "10", "2")
    assert (p["keywords"], p["page"], p["page_size"]) == ("中国电信", "2", "10")
    again = sign_url(first, 1764000060000, random.Random(2))
    assert again.count("signature=") == 1 and params(again)["ts"] == "1764000060000"
    bare = params(sign_url("https://tousu.sina.com.cn/api/index/s?keywords=x", 1, random.Random(3)))
    assert (bare["page"], bare["page_size"]) == ("1", "10")  # signed, so sent
    assert needs_signature(URL) and not needs_signature("https://tousu.sina.com.cn/complaint/view/17350000000/")


def test_middleware_signs_once_per_attempt(tmp_path: Path) -> None:
    spider = spider_for(HeimaoSpider, tmp_path, Settings())
    middleware = HeimaoSignMiddleware.from_crawler(spider.crawler)
    request = spider.page_request(spider.search_url("中国电信"), "heimao.list")
    assert needs_signature(request.url)
    signed = middleware.process_request(request)
    assert signed is not None and params(signed.url)["signature"] and signed.dont_filter
    assert middleware.process_request(signed) is None  # back from the scheduler: sent as it is
    retry = signed.replace(meta={**signed.meta, "block_attempt": 1, "backoff_delay": 30.0})
    resigned = middleware.process_request(retry)
    assert resigned is not None and resigned.meta["backoff_delay"] == 0 and resigned.meta["block_attempt"] == 1
    assert middleware.process_request(resigned) is None
    other = spider_for(WeiboSpider, tmp_path / "w", Settings())
    assert HeimaoSignMiddleware.from_crawler(other.crawler).process_request(other.start_requests_list()[0]) is None
