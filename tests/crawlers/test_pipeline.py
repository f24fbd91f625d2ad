"""The pipeline (an adapter over yuqing.ingest) on a real SQLite post index and OpsDB: clean, watchlist filter, dedupe,
analyze in batches, every rejection recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawlers.health import crawl_run
from crawlers.pipelines import UNHEALTHY_STAT, StorePipeline
from crawlers.spiders.weibo import WeiboSpider
from crawlers.watchlist import load_watchlist
from tests.conftest import Both, make_both
from yuqing.config import ConfigError, Settings
from yuqing.errors import StoreUnavailable
from yuqing.index import PostQuery
from yuqing.ingest import clean
from yuqing.records import Analysis, Event, Post, Rejected

NOW = datetime.now(UTC)


class CountingAnalyzer:
    """A fake analyzer that records its batches (the real one is tested in tests/sentiment)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def analyze(self, posts: list[Post], known_events: tuple[Event, ...] = ()) -> tuple[list[Analysis], list[Event]]:
        self.batches.append(len(posts))
        label = lambda p: "negative" if "断网" in p.text else "neutral"  # noqa: E731
        return [Analysis(label=label(p), score=0.1, event_id="e1") for p in posts], [
            Event(event_id="e1", title="断网", first_seen=NOW, last_seen=NOW, size=len(posts))]

    def refresh(self, post: Post, previous: Analysis) -> Analysis:
        from sentiment.analyze import refresh

        return refresh(post, previous)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Both]:
    yield from make_both(tmp_path)


def pipeline(store: Any, batch: int = 3, index: Any = None,
             flush_seconds: float = 3600) -> tuple[StorePipeline, CountingAnalyzer]:
    crawler = get_crawler(WeiboSpider, {"YUQING_PIPELINE_BATCH": batch, "YUQING_PIPELINE_FLUSH_SECONDS": flush_seconds})
    yq = Settings().replace(store={"spool_dir": str(Path(store.index.path).parent / "spool")})
    crawler.spider = WeiboSpider.from_crawler(crawler, keywords="x", index=index or store.index, ops=store.ops,
                                              yq_settings=yq)
    analyzer = CountingAnalyzer()
    pipe = StorePipeline(crawler, analyzer_factory=lambda s: analyzer, watchlist_factory=lambda s: load_watchlist())
    pipe.open_spider()
    return pipe, analyzer


def post(i: int, text: str = "中国电信宽带断网一整天", **kw: Any) -> Post:
    return Post(platform="weibo", post_id=str(i), text=text, published_at=NOW - timedelta(minutes=i), **kw)


def test_clean_tidies_and_refuses() -> None:
    tidy = clean(post(1, "  中国电信\u3000\u3000宽带  \r\n 断网 "), NOW)
    assert isinstance(tidy, Post) and tidy.text == "中国电信 宽带\n断网" and tidy.crawled_at == NOW
    assert clean(post(2, "   "), NOW) == "empty text"
    future = Post(platform="weibo", post_id="3", text="中国电信", published_at=NOW + timedelta(days=2))
    assert "future" in str(clean(future, NOW))


def test_posts_are_filtered_deduped_analyzed_in_batches_and_stored(store: Any) -> None:
    pipe, analyzer = pipeline(store, batch=3)
    items = [post(1), post(2), post(1, "中国电信宽带断网一整天，全文：到现在还没恢复"), post(3, "移动硬盘坏了"),
             post(4, "   "), post(5), post(6), Rejected(source="weibo", stage="parse", reason="mblog without id")]
    for item in items:
        pipe.process_item(item)
    pipe.close_spider()
    stats = pipe.crawler.stats
    assert store.count_posts(PostQuery()) == 4  # 1 (latest version), 2, 5, 6
    assert "全文" in store.get_post("weibo", "1").post.text  # the later version of a post wins
    assert store.get_post("weibo", "3") is None and store.get_post("weibo", "4") is None
    assert store.get_post("weibo", "2").post.operators == ("中国电信",)
    assert store.get_post("weibo", "2").analysis.label == "negative"
    assert store.get_event("e1") is not None
    assert stats.get_value("yuqing/posts_found") == 6 and stats.get_value("yuqing/posts_new") == 4
    assert stats.get_value("yuqing/rejected") == 3
    counts = store.rejected_counts()
    assert counts[("weibo", "filter", "no watched operator mentioned")] == 1
    assert counts[("weibo", "validate", "empty text")] == 1
    assert counts[("weibo", "parse", "mblog without id")] == 1
    assert all(n <= 3 for n in analyzer.batches)


def test_a_batch_goes_out_when_it_is_old_enough_not_only_when_full(store: Any) -> None:
    """The first page's posts reach the index while the crawl goes on (a crisis is on a search's first page)."""
    pipe, analyzer = pipeline(store, batch=200, flush_seconds=0.2)
    pipe.process_item(post(1))
    assert store.count_posts(PostQuery()) == 0  # young batch: waits for more
    time.sleep(0.3)
    pipe.process_item(post(2))
    assert store.count_posts(PostQuery()) == 2  # old enough: stored before the crawl ends
    pipe.process_item(post(3))
    assert store.count_posts(PostQuery()) == 2
    pipe.close_spider()
    assert store.count_posts(PostQuery()) == 3 and analyzer.batches == [2, 1]


def test_a_second_run_updates_without_counting_new(store: Any) -> None:
    first, _ = pipeline(store)
    first.process_item(post(1))
    first.close_spider()
    second, _ = pipeline(store)
    second.process_item(post(1, "中国电信宽带断网一整天", reposts=50))
    second.process_item(post(2))
    second.close_spider()
    assert store.count_posts(PostQuery()) == 2
    assert store.get_post("weibo", "1").post.reposts == 50
    assert second.crawler.stats.get_value("yuqing/posts_new") == 1


def test_comments_are_kept_without_an_operator_name(store: Any) -> None:
    pipe, _ = pipeline(store)
    pipe.process_item(Post(platform="weibo", post_id="c1", text="孩子网课全耽误了", kind="comment", parent_id="1",
                           published_at=NOW))
    pipe.close_spider()
    assert store.get_post("weibo", "c1") is not None


class DownStore:
    """The real post index, except that writing posts fails as if it were unreachable."""

    def __init__(self, store: Any) -> None:
        self._store = store.index

    def upsert_posts(self, items: Any) -> Any:
        raise StoreUnavailable("database is locked")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_posts_are_spooled_while_the_store_is_down_and_replayed_next_run(store: Any) -> None:
    down, _ = pipeline(store, index=DownStore(store))
    down.process_item(post(1))
    down.close_spider()
    assert store.count_posts(PostQuery()) == 0
    assert down.crawler.stats.get_value("yuqing/spooled") == 1
    assert down.crawler.stats.get_value("yuqing/errors/store_unavailable") == 1
    up, _ = pipeline(store)
    up.process_item(post(2))
    up.close_spider()
    assert store.count_posts(PostQuery()) == 2  # the spooled post came in first


def test_a_recrawl_analyzes_only_new_or_changed_posts_and_keeps_their_event(store: Any) -> None:
    """Analyzing an already-stored post again would count it into its event a second time."""
    pipe, analyzer = pipeline(store, batch=10)
    for i in (1, 2, 3):
        pipe.process_item(post(i))
    pipe.close_spider()
    assert analyzer.batches == [3]
    again, analyzer2 = pipeline(store, batch=10)
    again.process_item(post(1, reposts=5000, author_followers=2_000_000))  # same text, new counts
    again.process_item(post(2))
    again.process_item(post(3, "中国电信宽带断网一整天，已经报修"))  # edited text
    again.process_item(post(4))  # new
    again.close_spider()
    assert analyzer2.batches == [2]  # posts 3 and 4 only
    kept = store.get_post("weibo", "1")
    assert kept.analysis.event_id == "e1" and kept.post.reposts == 5000
    assert kept.analysis.influence > 40  # its reach follows the new counts
    assert again.crawler.stats.get_value("yuqing/posts_reanalysis_skipped") == 2


def broken_pipeline(store: Any, factory: Any, batch: int = 3) -> StorePipeline:
    crawler = get_crawler(WeiboSpider, {"YUQING_PIPELINE_BATCH": batch})
    yq = Settings().replace(store={"spool_dir": str(Path(store.index.path).parent / "spool")})
    crawler.spider = WeiboSpider.from_crawler(crawler, keywords="x", index=store.index, ops=store.ops, yq_settings=yq)
    pipe = StorePipeline(crawler, analyzer_factory=factory, watchlist_factory=lambda s: load_watchlist())
    pipe.open_spider()
    return pipe


def test_an_analyzer_that_cannot_load_loses_no_post_and_makes_the_run_unhealthy(store: Any) -> None:
    """`[sentiment] model = "nosuch"` once raised out of close_spider: the run looked healthy and nothing was stored."""
    calls: list[int] = []

    def factory(settings: Any) -> Any:
        calls.append(1)
        raise ConfigError("y.toml: [sentiment] model: unknown sentiment model 'nosuch'")

    pipe = broken_pipeline(store, factory, batch=3)
    for i in range(1, 6):  # two batches: one flushed while crawling, one at close
        pipe.process_item(post(i))
    pipe.close_spider()
    stats = pipe.crawler.stats
    assert store.count_posts(PostQuery()) == 5
    assert all(store.get_post("weibo", str(i)).analysis is None for i in range(1, 6))
    assert stats.get_value("yuqing/posts_unanalyzed") == 5 and stats.get_value("yuqing/posts_stored") == 5
    assert stats.get_value("yuqing/errors/analyzer_unavailable") == 1 and len(calls) == 1  # not retried per batch
    reason = stats.get_value(UNHEALTHY_STAT)
    assert "sentiment analyzer unavailable" in reason and "nosuch" in reason
    run = crawl_run("weibo", stats.get_stats(), started_at=NOW, finished_at=NOW, unhealthy_reason=reason)
    assert not run.healthy and "nosuch" in run.reason

    fixed, analyzer = pipeline(store, batch=10)  # the next run, model fixed: the same posts get their analysis
    for i in range(1, 6):
        fixed.process_item(post(i))
    fixed.close_spider()
    assert analyzer.batches == [5]
    assert all(store.get_post("weibo", str(i)).analysis.label == "negative" for i in range(1, 6))
    assert not fixed.crawler.stats.get_value(UNHEALTHY_STAT)


def test_an_analyzer_that_fails_on_a_batch_loses_no_post(store: Any) -> None:
    class Failing:
        def analyze(self, posts: Any, known_events: Any = ()) -> Any:
            raise ValueError("bad model file")

    pipe = broken_pipeline(store, lambda s: Failing())
    pipe.process_item(post(1))
    pipe.close_spider()
    assert store.get_post("weibo", "1") is not None and store.get_post("weibo", "1").analysis is None
    assert pipe.crawler.stats.get_value("yuqing/errors/analyze") == 1
    assert "bad model file" in pipe.crawler.stats.get_value(UNHEALTHY_STAT)


def test_re_seen_posts_are_counted_as_updated(store: Any) -> None:
    first, _ = pipeline(store)
    first.process_item(post(1))
    first.close_spider()
    second, _ = pipeline(store)
    second.process_item(post(1, reposts=3))
    second.process_item(post(2))
    second.close_spider()
    stats = second.crawler.stats
    assert (stats.get_value("yuqing/posts_new"), stats.get_value("yuqing/posts_updated"),
            stats.get_value("yuqing/posts_stored")) == (1, 1, 2)
