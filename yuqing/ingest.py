"""One way into the post index: clean -> match operators -> analyze -> write -> events.

The crawl pipeline (crawlers.pipelines, an adapter that turns the report into Scrapy stats) and
`yuqing sentiment reanalyze` both call `Ingest`. The analyzer comes from the composition root
(yuqing.wiring.analyzer) through a factory, so a crawl that finds nothing never loads the model, and an
analyzer that cannot be loaded or fails costs no post: the posts are stored without analysis and the
report says why (`problem`). While the index is unreachable the posts wait in the spool (yuqing.index.spool).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from yuqing.errors import StoreError
from yuqing.index import PostIndex, PostQuery, WriteResult
from yuqing.index.spool import SpoolingWriter
from yuqing.records import Analysis, Event, Post, Rejected, now_utc

log = logging.getLogger(__name__)
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
EVENT_MEMORY = timedelta(days=3)  # events a new post may join


class Analyzer(Protocol):
    """What ingest needs from sentiment.analyze.Analyzer."""

    def analyze(self, posts: Sequence[Post], known_events: Sequence[Event] = ()) -> tuple[list[Analysis], list[Event]]: ...
    def refresh(self, post: Post, previous: Analysis) -> Analysis: ...


def clean(post: Post, now: datetime) -> Post | str:
    """The post with tidy text and crawl time, or the reason it cannot be stored."""
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in post.text.replace("\r", "").split("\n")).strip()
    if not text and not post.title.strip():
        return "empty text"
    if post.published_at > now + timedelta(hours=1):
        return f"published in the future ({post.published_at.isoformat()})"
    return dataclasses.replace(post, text=text, title=post.title.strip(), crawled_at=now)


@dataclass
class IngestReport:
    """What one write did; the crawl pipeline turns it into stats, reanalyze into its totals."""

    written: WriteResult = field(default_factory=WriteResult)
    new: int = 0  # posts the index had not seen
    analyzed: int = 0  # analyzed now
    reused: int = 0  # seen before with the same text: the stored analysis kept (reach refreshed)
    unanalyzed: int = 0  # stored without analysis (no analyzer, or it failed)
    spooled: int = 0  # waiting in the spool for the index
    events: list[Event] = field(default_factory=list)
    labels_changed: int = 0  # analyzed posts whose label differs from the stored one
    newest: datetime | None = None  # publication time of the newest new post
    problem: str = ""  # why posts went unanalyzed
    analyze_seconds: float = 0.0
    store_seconds: float = 0.0
    store_errors: int = 0  # events or seen ids that could not be read or written (the index was down)


class Ingest:
    """Admits posts (clean, operators) and writes batches of them (analyze, write, events) to one index."""

    def __init__(self, index: PostIndex, *, source: str = "", analyzer: Callable[[], Analyzer] | None = None,
                 match: Callable[[str], Sequence[str]] | None = None, spool_dir: str | None = None,
                 clock: Callable[[], datetime] = now_utc) -> None:
        self.index = index
        self.source = source
        self.analyzer_factory = analyzer
        self.match = match
        self.writer = SpoolingWriter(index, spool_dir) if spool_dir else None
        self.clock = clock
        self._analyzer: Analyzer | None = None
        self.analyzer_error = ""  # why the analyzer could not be loaded; not tried again by this Ingest
        self.analyzer_load_seconds = 0.0
        self.events: dict[str, Event] | None = None

    # ------------------------------------------------------------------ admit: clean, operators
    def admit(self, post: Post) -> Post | Rejected:
        """The cleaned post with the watched operators it mentions, or why it is rejected (a comment is kept
        without operators: it belongs to a post we follow)."""
        now = self.clock()
        cleaned = clean(post, now)
        if isinstance(cleaned, str):
            return Rejected(source=self.source, stage="validate", reason=cleaned, url=post.url, sample=post.text[:300],
                            at=now)
        if self.match is None:
            return cleaned
        operators = tuple(self.match(f"{cleaned.title} {cleaned.text}"))
        if not operators and cleaned.kind != "comment":
            return Rejected(source=self.source, stage="filter", reason="no watched operator mentioned", url=post.url,
                            sample=cleaned.text[:300], at=now)
        return dataclasses.replace(cleaned, operators=operators) if operators else cleaned

    # ------------------------------------------------------------------ write: analyze, store, events
    def analyzer(self) -> Analyzer | None:
        """The analyzer, loaded on first need; None when it cannot be loaded (the reason in analyzer_error)."""
        if self._analyzer is None and not self.analyzer_error and self.analyzer_factory is not None:
            began = time.perf_counter()
            try:
                self._analyzer = self.analyzer_factory()
            except Exception as exc:  # ConfigError (unknown model), a missing or corrupt model or touchpoint file
                self.analyzer_error = str(exc) or type(exc).__name__
                log.error("sentiment analyzer unavailable, posts are stored without analysis: %s", self.analyzer_error)
            self.analyzer_load_seconds += time.perf_counter() - began
        return self._analyzer

    def known_events(self, report: IngestReport) -> dict[str, Event]:
        """The recent events, read again for every batch: crawls of other sources running at the same time add
        to them, and the alert job merges events that were told apart (a stale copy would split them again).
        When the index cannot be read, the last copy serves."""
        try:
            since = self.clock() - EVENT_MEMORY
            self.events = {e.event_id: e for e in self.index.list_events(since=since, limit=1000,
                                                                         order="last_seen_desc")}
        except StoreError as exc:
            log.warning("post index unavailable, known events not loaded: %s", exc)
            report.store_errors += 1
            if self.events is None:
                return {}
        return self.events

    def write(self, posts: Sequence[Post], *, reanalyze: bool = False, dry_run: bool = False) -> IngestReport:
        """Analyze and store posts (already admitted). A post seen before with the same text keeps its analysis
        (analyzing it again would count it into its event twice) unless `reanalyze`; `dry_run` analyzes and
        writes nothing."""
        report = IngestReport()
        if not posts:
            return report
        stored = self._stored(posts, report)
        texts = {p.key: p.text for p in posts}
        keep = {} if reanalyze else {key: sp.analysis for key, sp in stored.items()
                                     if sp.analysis is not None and sp.post.text == texts[key]}
        fresh = [p for p in posts if p.key not in keep]
        analysed: dict[str, Analysis] = {}
        began = time.perf_counter()
        analyzer = self.analyzer() if fresh else None
        if fresh and analyzer is None:
            report.problem = f"sentiment analyzer unavailable ({self.analyzer_error}); posts stored without analysis"
        elif fresh and analyzer is not None:
            try:
                events = self.known_events(report)
                new_analyses, report.events = analyzer.analyze(fresh, known_events=list(events.values()))
                analysed = {p.key: a for p, a in zip(fresh, new_analyses, strict=True)}
                events.update((e.event_id, e) for e in report.events)  # the next batch joins them
            except Exception as exc:  # a bug or a bad model file must not cost the posts
                log.exception("sentiment analysis failed; %d posts stored without analysis", len(fresh))
                report.problem = (f"sentiment analysis failed ({type(exc).__name__}: {exc}); posts stored without "
                                  "analysis")
                report.events = []
        analyses: list[Analysis | None] = []
        for p in posts:
            if p.key in analysed:
                analyses.append(analysed[p.key])
            elif p.key in keep and hasattr(analyzer, "refresh"):
                analyses.append(analyzer.refresh(p, keep[p.key]))  # type: ignore[union-attr]
            else:
                analyses.append(keep.get(p.key))
        report.analyze_seconds = time.perf_counter() - began
        report.analyzed, report.reused = len(analysed), len(keep)
        report.unanalyzed = sum(1 for a in analyses if a is None)
        report.labels_changed = sum(1 for key, a in analysed.items()
                                    if key not in stored or stored[key].analysis is None
                                    or stored[key].analysis.label != a.label)
        unseen = [p for p in posts if p.key not in stored]
        report.new = len(unseen)
        report.newest = max((p.published_at for p in unseen), default=None)
        if dry_run:
            return report
        began = time.perf_counter()
        items = list(zip(posts, analyses, strict=True))
        if self.writer is not None:
            spooled = self.writer.spooled
            report.written = self.writer.write(items)
            report.spooled = self.writer.spooled - spooled
        else:
            report.written = self.index.upsert_posts(items)
        if report.events:
            try:
                self.index.upsert_events(report.events)
            except StoreError as exc:
                report.store_errors += 1
                log.error("events not stored (they are rebuilt from the posts next run): %s", exc)
        report.store_seconds = time.perf_counter() - began
        return report

    def _stored(self, posts: Sequence[Post], report: IngestReport) -> dict[str, Any]:
        """key -> StoredPost of the posts the index already has (their analysis and text)."""
        try:
            keys: list[str] = []
            for platform in dict.fromkeys(p.platform for p in posts):
                ids = [p.post_id for p in posts if p.platform == platform]
                keys += [f"{platform}:{i}" for i in self.index.seen_ids(platform, ids)]
            found = self.index.search_posts(PostQuery(keys=tuple(keys)), limit=len(keys)) if keys else []
        except StoreError as exc:  # analyze them all; the write spools; "new" is then an upper bound
            log.warning("post index unavailable for stored posts: %s", exc)
            report.store_errors += 1
            return {}
        return {sp.post.key: sp for sp in found}
