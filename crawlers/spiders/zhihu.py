"""Zhihu: api/v4/search_v3 for each keyword, then the answers of every question it finds.

Login and request signing live in crawlers.middlewares.ZhihuAuthMiddleware (cookie from
YUQING_CRAWL_ZHIHU_COOKIE); without them the real site refuses and the source is marked unhealthy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import ParseResult
from crawlers.spiders.base import PlatformSpider


class ZhihuSpider(PlatformSpider):
    name = "zhihu"
    real_hosts = ("www.zhihu.com", "zhihu.com", "api.zhihu.com")
    search_parsers = ("zhihu.search",)

    def search_url(self, keyword: str) -> str:
        params = {"t": "general", "q": keyword, "correction": "1", "offset": "0", "limit": "20"}
        return f"{self.base_url}/api/v4/search_v3?{urlencode(params, quote_via=quote)}"

    def answers_url(self, question_id: str) -> str:
        return f"{self.base_url}/api/v4/questions/{question_id}/answers?limit=20&offset=0&sort_by=updated"

    async def start(self) -> AsyncIterator[Any]:
        for keyword in self.watch_keywords():
            yield self.page_request(self.search_url(keyword), "zhihu.search", parse_meta={"keyword": keyword},
                                    query={"keyword": keyword, "page": 1})

    def follow(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        yield from super().follow(response, result)
        if response.meta["parser"] != "zhihu.search":
            return
        questions = {p.parent_id for p in result.posts if p.kind == "answer" and p.parent_id.startswith("q")}
        questions |= {p.post_id for p in result.posts if p.kind == "question" and p.post_id.startswith("q")}
        for key in sorted(questions):
            yield self.page_request(self.answers_url(key[1:]), "zhihu.answers")
