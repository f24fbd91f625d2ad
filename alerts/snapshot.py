"""Build a rule's Window: counts, baselines, posts, keywords and events from the post index, source health from
the OpsDB."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import accumulate

from alerts.rules import Rule
from alerts.window import Window
from yuqing.index import PostIndex, PostQuery
from yuqing.ops import OpsDB
from yuqing.ops.hot import next_status
from yuqing.records import CrawlRun, HotTrack, SourceHealth, StoredPost, health_from_runs
from yuqing.vocab import HOT_SOURCE, PROVINCES

SAMPLE_LIMIT = 100  # posts for samples when the rule works on counts
POST_LIMIT = 3000  # posts for rules that read every post in the window
HOT_LIMIT = 500  # watched hot-list entries seen in one window


def scope_queries(rule: Rule, since: datetime, until: datetime, labels: tuple[str, ...] = ()) -> list[PostQuery]:
    """The store queries for a rule's scope; regions naming both provinces and cities become two queries."""
    s = rule.scope
    base = PostQuery(since=since, until=until, platforms=s.platforms, operators=s.operators,
                     touchpoints=s.touchpoints, labels=labels)
    provinces = tuple(r for r in s.regions if r in PROVINCES)
    cities = tuple(r for r in s.regions if r not in PROVINCES)
    queries = []
    if provinces:
        queries.append(replace(base, provinces=provinces))
    if cities:
        queries.append(replace(base, cities=cities))
    return queries or [base]


def _count(index: PostIndex, queries: list[PostQuery], **changes: object) -> int:
    return sum(index.count_posts(replace(q, **changes)) for q in queries)  # type: ignore[arg-type]


def _facet(index: PostIndex, queries: list[PostQuery], field: str, size: int, **changes: object) -> dict[str, int]:
    out: dict[str, int] = {}
    for q in queries:
        for k, n in index.facet(replace(q, **changes), field, size=size).items():  # type: ignore[arg-type]
            out[k] = out.get(k, 0) + n
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _posts(index: PostIndex, queries: list[PostQuery], labels: tuple[str, ...], limit: int,
           terms: tuple[str, ...] = (), flags: tuple[str, ...] = ()) -> tuple[StoredPost, ...]:
    """The most influential posts of the window, plus every post found by full-text search for the rule's terms
    and every post carrying one of its risk flags (any label)."""
    seen: dict[str, StoredPost] = {}
    extra = [replace(q, labels=labels, text=t) for q in queries for t in terms]
    extra += [replace(q, labels=(), risk_flags=(f,)) for q in queries for f in flags]
    for q in [replace(q, labels=labels) for q in queries] + extra:
        for sp in index.search_posts(q, limit=limit, order="influence_desc"):
            seen.setdefault(sp.post.key, sp)
    return tuple(seen.values())


def baselines(index: PostIndex, rule: Rule, queries: list[PostQuery], start: datetime, now: datetime) -> tuple[int, ...]:
    """Negative counts in the same window on each previous day the store was collecting anything at all."""
    out = []
    for d in range(1, int(rule.p.get("baseline_days", 7)) + 1):
        since, until = start - timedelta(days=d), now - timedelta(days=d)
        if index.count_posts(PostQuery(since=since - timedelta(hours=12), until=until + timedelta(hours=12))) == 0:
            continue  # nothing stored around then: no history, not a quiet day
        out.append(_count(index, queries, since=since, until=until, labels=("negative",)))
    return tuple(out)


def first_seen(ops: OpsDB, sources: tuple[SourceHealth, ...], now: datetime) -> dict[str, datetime]:
    """When the engine first saw each source that has never delivered a post (OpsDB.source_first_seen)."""
    return {h.source: ops.source_first_seen(h.source, now) for h in sources if h.last_post_at is None}


def health_as_of(runs: Sequence[CrawlRun], now: datetime) -> tuple[tuple[SourceHealth, ...], dict[str, datetime]]:
    """Source health as it was at `now`, from crawl runs oldest first (a backtest's replay): only runs finished by
    then (or that never finished, once started) count; a source is first seen at its first run's start."""
    by_source: dict[str, list[CrawlRun]] = {}
    for run in runs:
        known = run.finished_at <= now if run.finished_at else run.started_at <= now
        if known:
            by_source.setdefault(run.source, []).append(run)
    health = tuple(health_from_runs(source, rs) for source, rs in sorted(by_source.items()))
    return health, {source: min(r.started_at for r in rs) for source, rs in by_source.items()}


def build_window(index: PostIndex, ops: OpsDB | None, rule: Rule, now: datetime, *,
                 runs: Sequence[CrawlRun] | None = None, hot: HotReplay | None = None) -> Window:
    """The snapshot `rule` needs at `now`, looking only at posts published before `now`. With `runs` and `hot` (a
    backtest: the crawl runs and the hot-list history), source health and the hot lists are replayed as they were
    at `now` instead of read as they are now, and nothing is written."""
    start = now - rule.window
    queries = scope_queries(rule, start, now)
    needs = rule.needs
    kw: dict[str, object] = {}
    if "counts" in needs:
        kw["total"] = _count(index, queries)
        kw["negative"] = _count(index, queries, labels=("negative",))
    if "baselines" in needs:
        kw["baselines"] = baselines(index, rule, queries, start, now)
    if "posts" in needs:
        kw["posts"] = _posts(index, queries, rule.labels, SAMPLE_LIMIT if "counts" in needs else POST_LIMIT,
                             rule.search_terms(), rule.search_flags())
    if "keywords" in needs:
        kw["keywords"] = _facet(index, queries, "keyword", 10, labels=("negative",))
    if "events" in needs:
        current = _facet(index, queries, "event_id", 200)
        kw["event_counts"] = current
        kw["previous_event_counts"] = _facet(index, queries, "event_id", 500, since=start - rule.window, until=start)
        events = {}
        for eid in current:
            ev = index.get_event(eid)
            if ev is not None:
                events[eid] = ev
        kw["events"] = events
    if "sources" in needs and runs is not None:
        kw["sources"], kw["source_since"] = health_as_of(runs, now)
    elif "sources" in needs:
        if ops is None:
            raise ValueError("source health needs the OpsDB (or the crawl runs of a backtest)")
        kw["sources"] = tuple(ops.source_health())
        kw["source_since"] = first_seen(ops, kw["sources"], now)  # type: ignore[arg-type]
    if "hot" in needs and hot is not None:
        kw["hot"] = hot.as_of(start, now)
    elif "hot" in needs and ops is not None:
        kw["hot"] = hot_tracks(ops, start, now)
    return Window(now=now, start=start, scope=rule.scope, **kw)  # type: ignore[arg-type]


def hot_tracks(ops: OpsDB, start: datetime, now: datetime) -> tuple[HotTrack, ...]:
    """The watched hot-list entries seen in [start, now], with their ranks polled in it (none after `now`)."""
    out = []
    for t in ops.list_hot_tracks(since=start, with_ranks=True, limit=HOT_LIMIT):
        ranks = tuple(r for r in t.ranks if r[0] <= now)
        if ranks:
            out.append(replace(t, ranks=ranks))
    return tuple(out)


class HotReplay:
    """Every watched hot-list track with its whole rank history (ranks oldest first) and the hot-list crawl runs,
    indexed once for a backtest, so each step reads them by bisection instead of scanning all of them again."""

    def __init__(self, tracks: Sequence[HotTrack], runs: Sequence[CrawlRun]) -> None:
        self.tracks = [t for t in tracks if t.ranks]
        self.times = [[at for at, _, _ in t.ranks] for t in self.tracks]
        self.best = [list(accumulate((r for _, r, _ in t.ranks), min)) for t in self.tracks]  # best rank so far
        polls: dict[str, list[datetime]] = {}
        for t, times in zip(self.tracks, self.times, strict=True):
            polls.setdefault(t.board, []).extend(times)
        self.polls = {board: sorted(times) for board, times in polls.items()}
        crawls = sorted((r.started_at, r.finished_at) for r in runs
                        if r.source == HOT_SOURCE and r.healthy and r.finished_at is not None)
        self.crawl_starts = [started for started, _ in crawls]
        self.crawl_ends = [finished for _, finished in crawls]

    def _polled_between(self, board: str, after: datetime, before: datetime, now: datetime) -> bool:
        """Whether `board` was polled after `after` and before `before` (as known at `now`): a watched entry of it
        ranked then, or a hot-list crawl started then and finished by `now`."""
        times = self.polls[board]
        if bisect_right(times, after) < bisect_left(times, before):
            return True
        lo, hi = bisect_right(self.crawl_starts, after), bisect_left(self.crawl_starts, before)
        return any(end <= now for end in self.crawl_ends[lo:hi])

    def as_of(self, start: datetime, now: datetime) -> tuple[HotTrack, ...]:
        """The watched entries seen in [start, now] as a live window at `now` saw them: only the ranks polled up to
        `now`, the best rank and status recomputed from them (OpsDB's next_status); an entry a later poll of its
        board did not show is gone, one shown again after such a poll is new."""
        out = []
        after_now = now + timedelta(microseconds=1)
        for t, times, best in zip(self.tracks, self.times, self.best, strict=True):
            k = bisect_right(times, now)
            if k == 0 or times[k - 1] < start:
                continue
            at, rank, heat = t.ranks[k - 1]
            if self._polled_between(t.board, at, after_now, now):
                status = "gone"
            else:
                before = None if k == 1 else replace(t, rank=t.ranks[k - 2][1], status="steady")
                if before is not None and self._polled_between(t.board, times[k - 2], at, now):
                    before = replace(before, status="gone")  # it left the list and came back
                status = next_status(before, rank)
            out.append(replace(t, first_seen=times[0], last_seen=at, rank=rank, best_rank=best[k - 1], heat=heat,
                               status=status, ranks=t.ranks[bisect_left(times, start):k]))
        return tuple(out)
