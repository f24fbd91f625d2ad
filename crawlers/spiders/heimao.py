"""Heimao 黑猫投诉: the search list API (api/index/s?keywords=&page=), then each complaint page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

from crawlers.spiders.base import PlatformSpider


class HeimaoSpider(PlatformSpider):
    name = "heimao"
    real_hosts = ("tousu.sina.com.cn",)
    search_parsers = ("heimao.list",)

    def search_url(self, keyword: str) -> str:
        params = {"keywords": keyword, "page": "1", "page_size": "10"}
        return f"{self.base_url}/api/index/s?{urlencode(params, quote_via=quote)}"

    async def start(self) -> AsyncIterator[Any]:
        for keyword in self.watch_keywords():
            yield self.page_request(self.search_url(keyword), "heimao.list", parse_meta={"keyword": keyword},
                                    query={"keyword": keyword, "page": 1})
