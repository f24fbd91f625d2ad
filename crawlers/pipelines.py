"""Items -> the stores: an adapter over yuqing.ingest (clean, watchlist filter, analyze in batches, write posts
and events), turning its reports into crawl stats.

Every item that does not make it in is recorded with ops.record_rejected and counted in the crawl stats
(yuqing/rejected); the same post seen twice in a run is stored once, the later version (e.g. the full text
from statuses/extend) winning. When the sentiment analyzer cannot be loaded (or fails), the posts are still
stored, without analysis (counted in yuqing/posts_unanalyzed; a later crawl that sees them again analyzes
them), and the run is unhealthy with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from yuqing.errors import StoreError
from yuqing.ingest import Ingest
from yuqing.records import Post, Rejected

log = logging.getLogger(__name__)
UNHEALTHY_STAT = "yuqing/pipeline_unhealthy"  # the pipeline's reason the run is unhealthy (see runner.crawl)


def shared_analyzer(settings: Any) -> Any:
    """The sentiment Analyzer for these settings, built once per process (yuqing.wiring)."""
    from yuqing.wiring import analyzer

    return analyzer(settings)


class StorePipeline:
    """The crawl pipeline; the stores are the spider's (opened once per crawl process by the runner)."""

    def __init__(self, crawler: Any, analyzer_factory: Callable[[Any], Any] = shared_analyzer,
                 watchlist_factory: Callable[[Any], Any] | None = None) -> None:
        self.crawler = crawler
        self.analyzer_factory = analyzer_factory
        self.watchlist_factory = watchlist_factory or _load_watchlist
        self.batch_size = crawler.settings.getint("YUQING_PIPELINE_BATCH", 200)
        # a batch also goes out when it is this old: the newest posts (a search's first page, where a crisis shows)
        # reach the index and the alert job seconds after they are read, not when the whole crawl ends
        self.flush_seconds = crawler.settings.getfloat("YUQING_PIPELINE_FLUSH_SECONDS", 2.0)
        self.last_flush = time.monotonic()
        self.buffer: dict[str, Post] = {}
        self.rejected: list[Rejected] = []
        self.counted: set[str] = set()  # keys already counted as found in this run
        self.ops: Any = None
        self.ingest: Ingest | None = None
        self.source = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    @property
    def analyzer_error(self) -> str:
        return self.ingest.analyzer_error if self.ingest else ""

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.source = spider.name
        self.ops = spider.ops
        settings = spider.yq_settings
        watchlist = self.watchlist_factory(settings)
        self.ingest = Ingest(spider.index, source=self.source, analyzer=lambda: self.analyzer_factory(settings),
                             match=watchlist.match, spool_dir=settings.store.spool_dir)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Rejected):
            self.reject(item)
        elif isinstance(item, Post):
            self.add(item)
        else:
            self.reject(Rejected(source=self.source, stage="validate", reason=f"unknown item {type(item).__name__}",
                                 sample=repr(item)[:300], at=datetime.now(UTC)))
        return item

    def reject(self, item: Rejected) -> None:
        self.rejected.append(item)
        self.stats.inc_value("yuqing/rejected")
        log.info("rejected %s/%s: %s %s", item.source, item.stage, item.reason, item.url)
        if len(self.rejected) >= self.batch_size:
            self.flush()

    def add(self, post: Post) -> None:
        if post.key not in self.counted:
            self.counted.add(post.key)
            self.stats.inc_value("yuqing/posts_found")
        admitted = self.ingest.admit(post)  # type: ignore[union-attr]
        if isinstance(admitted, Rejected):
            self.reject(admitted)
            return
        self.buffer[admitted.key] = admitted  # a later version of the same post replaces the earlier one
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Analyze and store the buffered posts, then record the buffered rejections."""
        posts = list(self.buffer.values())
        self.buffer.clear()
        self.last_flush = time.monotonic()
        if posts:
            self.store_posts(posts)
        if self.rejected:
            items, self.rejected = self.rejected, []
            try:
                self.ops.record_rejected(items)
            except StoreError as exc:
                self.stats.inc_value("yuqing/errors/store_unavailable")
                for item in items:
                    log.error("rejected item not recorded (store unavailable: %s): %s/%s %s %s", exc, item.source,
                              item.stage, item.reason, item.url)

    def store_posts(self, posts: list[Post]) -> None:
        ingest = self.ingest
        assert ingest is not None
        loads = ingest.analyzer_load_seconds
        had_error = bool(ingest.analyzer_error)
        report = ingest.write(posts)
        if ingest.analyzer_load_seconds != loads:
            self.stats.inc_value("yuqing/analyzer_load_seconds", ingest.analyzer_load_seconds - loads)
        if ingest.analyzer_error and not had_error:
            self.stats.inc_value("yuqing/errors/analyzer_unavailable")
        elif report.problem and not ingest.analyzer_error:
            self.stats.inc_value("yuqing/errors/analyze")
        if report.problem:
            self.unhealthy(report.problem)
        if report.unanalyzed:
            self.stats.inc_value("yuqing/posts_unanalyzed", report.unanalyzed)
        self.stats.inc_value("yuqing/analyze_seconds", report.analyze_seconds)
        self.stats.inc_value("yuqing/posts_reanalysis_skipped", report.reused)
        if report.spooled:
            self.stats.inc_value("yuqing/spooled", report.spooled)
        if report.spooled or report.store_errors:
            self.stats.inc_value("yuqing/errors/store_unavailable", max(1, report.store_errors) if report.spooled
                                 else report.store_errors)
        self.stats.inc_value("yuqing/store_seconds", report.store_seconds)
        written = report.written
        self.stats.inc_value("yuqing/posts_new", report.new)
        self.stats.inc_value("yuqing/posts_stored", written.inserted + written.updated)
        self.stats.inc_value("yuqing/posts_updated", written.updated)
        if written.failed:
            self.stats.inc_value("yuqing/errors/store", written.failed)
            now = datetime.now(UTC)
            self.rejected.extend(Rejected(source=self.source, stage="store", reason=err[:300], at=now)
                                 for err in (written.errors or ("write failed",)))
            self.stats.inc_value("yuqing/rejected", written.failed)
        if report.newest is not None:
            self.stats.max_value("yuqing/newest_post", report.newest.isoformat())

    def load_analyzer(self) -> Any:
        """The analyzer (loaded on first need); None when it cannot be loaded."""
        return self.ingest.analyzer() if self.ingest else None

    def unhealthy(self, reason: str) -> None:
        """Mark the run unhealthy without stopping the crawl (the runner adds this to the spider's own reason)."""
        if not self.stats.get_value(UNHEALTHY_STAT):
            self.stats.set_value(UNHEALTHY_STAT, reason)

    def close_spider(self) -> None:
        self.flush()


def _load_watchlist(settings: Any) -> Any:
    from crawlers.watchlist import load_watchlist

    return load_watchlist(settings.crawl.watchlist)
