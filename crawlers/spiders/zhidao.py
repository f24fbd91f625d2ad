"""Baidu Zhidao: /search?word=&pn= result pages, then each question page (the parser decodes by bytes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

from crawlers.spiders.base import PlatformSpider


class ZhidaoSpider(PlatformSpider):
    name = "zhidao"
    real_hosts = ("zhidao.baidu.com",)
    search_parsers = ("zhidao.search",)

    def search_url(self, keyword: str) -> str:
        return f"{self.base_url}/search?{urlencode({'word': keyword, 'pn': '0'}, quote_via=quote)}"

    async def start(self) -> AsyncIterator[Any]:
        for keyword in self.watch_keywords():
            yield self.page_request(self.search_url(keyword), "zhidao.search", parse_meta={"keyword": keyword},
                                    query={"keyword": keyword, "page": 1})
