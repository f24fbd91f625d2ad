"""Items -> store: clean, watchlist filter, dedupe, analyze in batches, upsert posts and events.

Every item that does not make it in is recorded with store.record_rejected and counted in the
crawl stats (yuqing/rejected); the same post seen twice in a run is stored once, the later
version (e.g. the full text from statuses/extend) winning. When the sentiment analyzer cannot be
loaded (or fails), the posts are still stored, without analysis (counted in yuqing/posts_unanalyzed;
a later crawl that sees them again analyzes them), and the run is unhealthy with the reason.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sentiment.analyze import refresh
from yuqing.post import Analysis, Event, Post, Rejected
from yuqing.store.base import PostQuery, StoreError
from yuqing.store.spool import SpoolingWriter

log = logging.getLogger(__name__)
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_ANALYZERS: dict[tuple[str, str, int], Any] = {}
UNHEALTHY_STAT = "yuqing/pipeline_unhealthy"  # the pipeline's reason the run is unhealthy (see runner.crawl)


def shared_analyzer(settings: Any) -> Any:
    """The sentiment Analyzer for these settings, built once per process."""
    key = (settings.sentiment.model, settings.sentiment.touchpoints, settings.sentiment.batch_size)
    if key not in _ANALYZERS:
        from sentiment.analyze import Analyzer

        _ANALYZERS[key] = Analyzer.from_settings(settings)
    return _ANALYZERS[key]


def clean(post: Post, now: datetime) -> Post | str:
    """The post with tidy text and crawl time, or the reason it cannot be stored."""
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in post.text.replace("\r", "").split("\n")).strip()
    if not text and not post.title.strip():
        return "empty text"
    if post.published_at > now + timedelta(hours=1):
        return f"published in the future ({post.published_at.isoformat()})"
    return dataclasses.replace(post, text=text, title=post.title.strip(), crawled_at=now)


class StorePipeline:
    """The crawl pipeline; the store is the spider's (one connection per crawl process)."""

    def __init__(self, crawler: Any, analyzer_factory: Callable[[Any], Any] = shared_analyzer,
                 watchlist_factory: Callable[[Any], Any] | None = None) -> None:
        self.crawler = crawler
        self.analyzer_factory = analyzer_factory
        self.watchlist_factory = watchlist_factory or _load_watchlist
        self.batch_size = crawler.settings.getint("YUQING_PIPELINE_BATCH", 200)
        self.buffer: dict[str, Post] = {}
        self.rejected: list[Rejected] = []
        self.counted: set[str] = set()  # keys already counted as found in this run
        self.events: dict[str, Event] = {}
        self.store: Any = None
        self.writer: Any = None
        self.analyzer: Any = None
        self.analyzer_error = ""  # why the analyzer could not be loaded; it is not tried again in this run
        self.watchlist: Any = None
        self.source = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.source = spider.name
        self.store = spider.store
        self.writer = SpoolingWriter(self.store, spider.yq_settings.store.spool_dir)
        self.watchlist = self.watchlist_factory(spider.yq_settings)
        since = datetime.now(UTC) - timedelta(days=3)
        try:
            self.events = {e.event_id: e for e in self.store.list_events(since=since, limit=1000,
                                                                           order="last_seen_desc")}
        except StoreError as exc:
            log.warning("store unavailable, known events not loaded: %s", exc)

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
        now = datetime.now(UTC)
        if post.key not in self.counted:
            self.counted.add(post.key)
            self.stats.inc_value("yuqing/posts_found")
        cleaned = clean(post, now)
        if isinstance(cleaned, str):
            self.reject(Rejected(source=self.source, stage="validate", reason=cleaned, url=post.url,
                                 sample=post.text[:300], at=now))
            return
        operators = tuple(self.watchlist.match(f"{cleaned.title} {cleaned.text}"))
        if not operators and cleaned.kind != "comment":  # comments are kept for the posts we follow
            self.reject(Rejected(source=self.source, stage="filter", reason="no watched operator mentioned",
                                 url=post.url, sample=cleaned.text[:300], at=now))
            return
        if operators:
            cleaned = dataclasses.replace(cleaned, operators=operators)
        self.buffer[cleaned.key] = cleaned  # a later version of the same post replaces the earlier one
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Analyze and store the buffered posts, then record the buffered rejections."""
        posts: Sequence[Post] = list(self.buffer.values())
        self.buffer.clear()
        if posts:
            self.store_posts(posts)
        if self.rejected:
            items, self.rejected = self.rejected, []
            try:
                self.store.record_rejected(items)
            except StoreError as exc:
                self.stats.inc_value("yuqing/errors/store_unavailable")
                for item in items:
                    log.error("rejected item not recorded (store unavailable: %s): %s/%s %s %s", exc, item.source,
                              item.stage, item.reason, item.url)

    def store_posts(self, posts: Sequence[Post]) -> None:
        try:
            seen = self.store.seen_ids(self.source, [p.post_id for p in posts])
        except StoreError as exc:  # the write below spools; "new" is then an upper bound
            log.warning("store unavailable for seen ids: %s", exc)
            seen = set()
        kept = self._stored_analyses(posts, seen)
        fresh = [p for p in posts if p.post_id not in kept]
        analysed: dict[str, Analysis] = {}
        events: list[Event] = []
        began = time.perf_counter()
        if fresh and self.load_analyzer() is not None:
            began = time.perf_counter()
            try:
                new_analyses, events = self.analyzer.analyze(fresh, known_events=list(self.events.values()))
                analysed = {p.post_id: a for p, a in zip(fresh, new_analyses, strict=True)}
            except Exception as exc:  # a bug or bad model file must not cost the posts: they are stored unanalyzed
                log.exception("sentiment analysis failed; %d posts stored without analysis", len(fresh))
                self.stats.inc_value("yuqing/errors/analyze")
                self.unhealthy(f"sentiment analysis failed ({type(exc).__name__}: {exc}); posts stored without "
                               "analysis")
                events = []
        analyses: list[Analysis | None] = [
            analysed[p.post_id] if p.post_id in analysed else refresh(p, kept[p.post_id]) if p.post_id in kept
            else None for p in posts]
        unanalyzed = sum(1 for a in analyses if a is None)
        if unanalyzed:
            self.stats.inc_value("yuqing/posts_unanalyzed", unanalyzed)
        self.stats.inc_value("yuqing/analyze_seconds", time.perf_counter() - began)
        self.stats.inc_value("yuqing/posts_reanalysis_skipped", len(kept))
        began = time.perf_counter()
        spooled = self.writer.spooled
        result = self.writer.write(list(zip(posts, analyses, strict=True)))
        if self.writer.spooled > spooled:
            self.stats.inc_value("yuqing/spooled", self.writer.spooled - spooled)
            self.stats.inc_value("yuqing/errors/store_unavailable")
        if events:
            self.events.update((e.event_id, e) for e in events)
            try:
                self.store.upsert_events(events)
            except StoreError as exc:
                self.stats.inc_value("yuqing/errors/store_unavailable")
                log.error("events not stored (they are rebuilt from the posts next run): %s", exc)
        self.stats.inc_value("yuqing/store_seconds", time.perf_counter() - began)
        new = sum(1 for p in posts if p.post_id not in seen)
        self.stats.inc_value("yuqing/posts_new", new)
        self.stats.inc_value("yuqing/posts_stored", result.inserted + result.updated)
        self.stats.inc_value("yuqing/posts_updated", result.updated)
        if result.failed:
            self.stats.inc_value("yuqing/errors/store", result.failed)
            now = datetime.now(UTC)
            self.rejected.extend(Rejected(source=self.source, stage="store", reason=err[:300], at=now)
                                 for err in (result.errors or ("write failed",)))
            self.stats.inc_value("yuqing/rejected", result.failed)
        if new:
            newest = max(p.published_at for p in posts if p.post_id not in seen)
            self.stats.max_value("yuqing/newest_post", newest.isoformat())

    def load_analyzer(self) -> Any:
        """The analyzer, loaded on the first posts (a run that finds nothing does not pay for it); None when it
        cannot be loaded: the reason is logged, counted (errors/analyzer_unavailable) and makes the run unhealthy."""
        if self.analyzer is None and not self.analyzer_error:
            began = time.perf_counter()
            try:
                self.analyzer = self.analyzer_factory(self.crawler.spider.yq_settings)
            except Exception as exc:  # ConfigError (unknown model), a missing or corrupt model or touchpoint file
                self.analyzer_error = str(exc) or type(exc).__name__
                log.error("sentiment analyzer unavailable, posts are stored without analysis: %s", self.analyzer_error)
                self.stats.inc_value("yuqing/errors/analyzer_unavailable")
                self.unhealthy(f"sentiment analyzer unavailable ({self.analyzer_error}); posts stored without analysis")
            self.stats.inc_value("yuqing/analyzer_load_seconds", time.perf_counter() - began)
        return self.analyzer

    def unhealthy(self, reason: str) -> None:
        """Mark the run unhealthy without stopping the crawl (the runner adds this to the spider's own reason)."""
        if not self.stats.get_value(UNHEALTHY_STAT):
            self.stats.set_value(UNHEALTHY_STAT, reason)

    def _stored_analyses(self, posts: Sequence[Post], seen: set[str]) -> dict[str, Analysis]:
        """Stored analyses of already-seen posts whose text is unchanged: they are not analyzed again."""
        if not seen:
            return {}
        keys = tuple(p.key for p in posts if p.post_id in seen)
        try:
            stored = self.store.search_posts(PostQuery(keys=keys), limit=len(keys))
        except StoreError as exc:  # analyze them all; the write below spools
            log.warning("store unavailable for stored analyses: %s", exc)
            return {}
        texts = {p.post_id: p.text for p in posts}
        return {sp.post.post_id: sp.analysis for sp in stored
                if sp.analysis is not None and texts.get(sp.post.post_id) == sp.post.text}

    def close_spider(self) -> None:
        self.flush()


def _load_watchlist(settings: Any) -> Any:
    from crawlers.watchlist import load_watchlist

    return load_watchlist(settings.crawl.watchlist)
