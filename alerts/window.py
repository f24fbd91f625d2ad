"""The plain data a rule sees (Window) and what it reports (Match); pure, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from yuqing.records import Event, HotTrack, SourceHealth, StoredPost
from yuqing.vocab import SEVERITIES

SCOPE_FIELDS = ("operators", "platforms", "touchpoints", "regions")


@dataclass(frozen=True)
class Scope:
    """Which posts a rule looks at; an empty tuple means all."""

    operators: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return {name: getattr(self, name) for name in SCOPE_FIELDS if getattr(self, name)}

    @property
    def key(self) -> str:
        """A stable dedup key for the scope ("all" when unscoped)."""
        parts = ["+".join(getattr(self, n)) for n in SCOPE_FIELDS if getattr(self, n)]
        return "/".join(parts) or "all"

    @property
    def label(self) -> str:
        """The scope in Chinese for titles: "中国移动·深圳" or "全部"."""
        parts = ["、".join(getattr(self, n)) for n in ("operators", "regions", "touchpoints", "platforms")
                 if getattr(self, n)]
        return "·".join(parts) or "全部"


@dataclass(frozen=True)
class Window:
    """A snapshot of the store for one rule at one moment: posts in [start, now) and what they compare to."""

    now: datetime
    start: datetime
    scope: Scope = Scope()
    posts: tuple[StoredPost, ...] = ()  # posts in the window (labels as the rule asked), influence first
    total: int = 0  # all posts in scope in the window
    negative: int = 0  # negative posts in scope in the window
    baselines: tuple[int, ...] = ()  # negative counts in the same window on each previous day
    keywords: Mapping[str, int] = field(default_factory=dict)  # top keywords of the negative posts
    event_counts: Mapping[str, int] = field(default_factory=dict)  # event_id -> posts in this window
    previous_event_counts: Mapping[str, int] = field(default_factory=dict)  # event_id -> posts in the window before
    events: Mapping[str, Event] = field(default_factory=dict)
    sources: tuple[SourceHealth, ...] = ()
    source_since: Mapping[str, datetime] = field(default_factory=dict)  # first seen, for sources never delivering
    hot: tuple[HotTrack, ...] = ()  # watched hot-list entries seen in the window, with their ranks in it


@dataclass(frozen=True)
class Match:
    """One thing a rule found: who, how bad, and why (in Chinese, with counts against the baseline)."""

    rule: str
    rule_type: str
    key: str
    severity: str
    title: str
    reason: str
    count: int = 0
    baseline: float = 0.0
    keywords: tuple[str, ...] = ()
    sample_keys: tuple[str, ...] = ()
    event_id: str = ""
    scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


def raise_severity(base: str, ratio: float, steps: Iterable[float]) -> str:
    """The base severity raised one level for each step multiple that `ratio` reaches, capped at red."""
    level = SEVERITIES.index(base) + sum(1 for step in steps if ratio >= step)
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def post_operators(sp: StoredPost) -> tuple[str, ...]:
    """The operators a post is about: the analysis's, else what the crawler saw."""
    if sp.analysis and sp.analysis.operators:
        return sp.analysis.operators
    return sp.post.operators


def post_regions(sp: StoredPost) -> tuple[str, ...]:
    a = sp.analysis
    if a is None:
        return (sp.post.ip_region,) if sp.post.ip_region else ()
    return tuple(r for r in (a.province, a.city) if r) or ((sp.post.ip_region,) if sp.post.ip_region else ())


def in_scope(sp: StoredPost, scope: Scope) -> bool:
    """Whether a post falls in a scope (the engine filters in the store too; rules check again for safety)."""
    a = sp.analysis
    if scope.platforms and sp.post.platform not in scope.platforms:
        return False
    if scope.operators and not set(scope.operators) & set(post_operators(sp)):
        return False
    if scope.touchpoints and not (a and set(scope.touchpoints) & set(a.touchpoints)):
        return False
    if scope.regions and not set(scope.regions) & set(post_regions(sp)):
        return False
    return True


def derived_scope(scope: Scope, posts: Iterable[StoredPost], extra: Mapping[str, Iterable[str]] = ()) -> dict:
    """The scope of a match: the rule's own, filled in from the posts that triggered it where the rule is open."""
    posts = list(posts)
    out: dict[str, tuple[str, ...]] = dict(scope.as_dict())
    found: dict[str, Counter[str]] = {name: Counter() for name in SCOPE_FIELDS}
    for sp in posts:
        found["operators"].update(set(post_operators(sp)))
        found["platforms"][sp.post.platform] += 1
        if sp.analysis:
            found["touchpoints"].update(set(sp.analysis.touchpoints))
        found["regions"].update(set(post_regions(sp)))
    for name in SCOPE_FIELDS:
        if name not in out and found[name]:
            out[name] = tuple(k for k, _ in found[name].most_common(5))
    for name, values in dict(extra).items():
        values = tuple(values)
        if values:
            out[name] = values
    return out


def top_keywords(posts: Iterable[StoredPost], limit: int = 8) -> tuple[str, ...]:
    counts: Counter[str] = Counter()
    for sp in posts:
        if sp.analysis:
            counts.update(set(sp.analysis.keywords))
    return tuple(k for k, _ in counts.most_common(limit))


def by_influence(posts: Iterable[StoredPost]) -> list[StoredPost]:
    """Posts ordered most influential first (analysis influence, then reposts and followers)."""
    def weight(sp: StoredPost) -> tuple[float, int, int]:
        return (sp.analysis.influence if sp.analysis else 0.0, sp.post.reposts + sp.post.comments,
                sp.post.author_followers)
    return sorted(posts, key=weight, reverse=True)
