"""Bilibili: the nav API for the day's WBI keys, video search for each keyword (newest first), then the comments
of the videos that name a watched operator, newest first, and the sub-replies of comments that have more than
the page shows. WBI requests are signed when sent (crawlers.middlewares.BilibiliSignMiddleware).

Incremental by video and comment: bilibili's crawl cursor `videos` (OpsDB crawl_cursors) keeps, per video, the
comment count search showed and the newest comment time read. A video whose count is unchanged is left alone; a changed one is read
from its newest comments back to the last one read. The state is saved when the crawl closes, for videos whose
comments were read to that point (or to their end).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from crawlers.parsers import ParseResult
from crawlers.spiders.base import PlatformSpider
from yuqing.records import Post

MAX_VIDEOS = 5000


class BilibiliSpider(PlatformSpider):
    name = "bilibili"
    real_hosts = ("api.bilibili.com",)
    search_parsers = ("bilibili.search",)

    def attach(self, index: Any, ops: Any) -> None:
        super().attach(index, ops)
        raw = ops.get_cursor(self.name, "videos")
        self.videos: dict[str, list[int]] = json.loads(raw) if raw else {}  # aid -> [comment count, newest ctime]
        self.wbi_keys: tuple[str, str] | None = None
        self.watchlist: Any = None

    def nav_url(self) -> str:
        return f"{self.base_url}/x/web-interface/nav"

    def search_url(self, keyword: str) -> str:
        params = {"search_type": "video", "keyword": keyword, "page": "1", "page_size": "20", "order": "pubdate"}
        return f"{self.base_url}/x/web-interface/wbi/search/type?{urlencode(params, quote_via=quote)}"

    def comments_url(self, aid: str) -> str:
        params = {"oid": aid, "type": "1", "mode": "2", "pagination_str": '{"offset":""}', "plat": "1",
                  "web_location": "1315875"}
        return f"{self.base_url}/x/v2/reply/wbi/main?{urlencode(params, quote_via=quote)}"

    def sub_replies_url(self, aid: str, root: str) -> str:
        return f"{self.base_url}/x/v2/reply/reply?oid={aid}&type=1&root={root}&ps=20&pn=1&web_location=333.788"

    async def start(self) -> AsyncIterator[Any]:
        request = self.page_request(self.nav_url(), "bilibili.nav", priority=20)
        yield request.replace(dont_filter=True)  # fetched again when a stopped crawl resumes: keys change daily

    def matches(self, post: Post) -> bool:
        if self.watchlist is None:
            from crawlers.watchlist import load_watchlist

            self.watchlist = load_watchlist(self.yq_settings.crawl.watchlist)
        return bool(self.watchlist.match(f"{post.title} {post.text} {post.extra.get('tag', '')}"))

    def follow(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        key = response.meta["parser"]
        if key == "bilibili.nav":
            self.wbi_keys = (str(result.cursor["img_key"]), str(result.cursor["sub_key"]))
            for keyword in self.watch_keywords():
                yield self.page_request(self.search_url(keyword), "bilibili.search", parse_meta={"keyword": keyword},
                                        query={"keyword": keyword, "page": 1})
            return
        if key == "bilibili.comments":
            yield from self.comments_followed(response, result)
            return
        yield from super().follow(response, result)
        if key == "bilibili.search":
            for video in result.posts:
                request = self.comments_request(video)
                if request is not None:
                    yield request

    def comments_request(self, video: Post) -> scrapy.Request | None:
        """The first comment page of a video that names a watched operator and has new comments, else None."""
        aid = str(video.extra.get("aid") or video.post_id.removeprefix("av"))
        known = self.videos.get(aid)
        if not video.comments or not self.matches(video):
            return None
        if known is not None and known[0] == video.comments:
            self.crawler.stats.inc_value("yuqing/bilibili/videos_unchanged")
            return None
        meta = {"aid": aid, "count": video.comments, "since": known[1] if known else 0}
        return self.page_request(self.comments_url(aid), "bilibili.comments", parse_meta=meta, priority=1)

    def comments_followed(self, response: Response, result: ParseResult) -> Iterator[scrapy.Request]:
        """Sub-replies of the comments on this page, the next page until caught up, and the video's state at the
        end of the chain."""
        meta = dict(response.meta.get("parse_meta") or {})
        aid, since = str(meta.get("aid", "")), int(meta.get("since") or 0)
        roots = [p for p in result.posts if "root" not in p.extra]
        shown: dict[str, int] = {}
        for p in result.posts:
            if "root" in p.extra:
                shown[str(p.extra["root"])] = shown.get(str(p.extra["root"]), 0) + 1
        if aid and "root=" not in response.url:
            for root in roots:
                if root.comments > shown.get(root.post_id, 0):
                    yield self.page_request(self.sub_replies_url(aid, root.post_id), "bilibili.comments",
                                            parse_meta={"aid": aid, "sub": True}, priority=1)
        newest = max([int(meta.get("newest") or 0), *(int(p.published_at.timestamp()) for p in roots)])
        caught_up = bool(roots) and since > 0 and all(p.published_at.timestamp() <= since for p in roots)
        depth = int(response.meta.get("chain", 1))
        more = [r for r in result.requests if r.parser == "bilibili.comments"]
        if more and not caught_up and depth < self.max_pages:
            request = self.page_request(more[0].url, "bilibili.comments", parse_meta={**meta, "newest": newest},
                                        priority=1)
            request.meta["chain"] = depth + 1
            yield request
            return
        if caught_up:
            self.crawler.stats.inc_value("yuqing/paging/caught_up")
        if aid and not meta.get("sub") and meta.get("count") is not None:
            self.videos.pop(aid, None)
            self.videos[aid] = [int(meta["count"]), max(newest, since)]

    def closed(self, reason: str) -> None:
        if self.ops is not None and self.videos:
            kept = dict(list(self.videos.items())[-MAX_VIDEOS:])
            self.ops.set_cursor(self.name, "videos", json.dumps(kept, separators=(",", ":")), datetime.now(UTC))
