"""The records shared by every part of yuqing: frozen dataclasses, stdlib only.

Times are tz-aware and normalised to UTC on construction; they are shown in
Asia/Shanghai by the dashboard and emails. The words they may hold (platforms, labels,
severities, statuses, roles) are in yuqing.vocab.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from yuqing.vocab import (
    ALERT_STATUSES,
    CASE_STATUSES,
    HOT_BOARDS,
    HOT_STATUSES,
    KINDS,
    LABELS,
    PLATFORMS,
    ROLES,
    SEVERITIES,
    SUBSCRIBER_MODES,
)


def utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime; naive values are rejected."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime not allowed: {value!r}")
    return value.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _freeze_times(obj: Any) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            object.__setattr__(obj, f.name, utc(value))


@dataclass(frozen=True)
class Post:
    """One public post, answer, comment or complaint, as a platform shows it."""

    platform: str
    post_id: str
    text: str
    published_at: datetime
    url: str = ""
    kind: str = "post"
    title: str = ""
    author_id: str = ""
    author_name: str = ""
    author_verified: bool = False
    author_followers: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    parent_id: str = ""  # the root post of a repost, comment or answer
    ip_region: str = ""  # the platform's IP属地, e.g. "广东"
    keyword: str = ""  # the search keyword that found it
    operators: tuple[str, ...] = ()  # watched operators it mentions
    extra: Mapping[str, Any] = field(default_factory=dict)  # platform-specific (complaint object, demands, status)
    crawled_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if not self.post_id:
            raise ValueError("post_id is empty")
        object.__setattr__(self, "operators", tuple(self.operators))
        _freeze_times(self)

    @property
    def key(self) -> str:
        """The store-wide identity: `platform:post_id`."""
        return f"{self.platform}:{self.post_id}"


@dataclass(frozen=True)
class Analysis:
    """What the pipeline concluded about one post."""

    label: str  # negative | neutral | positive
    score: float  # probability of positive, 0..1
    model: str = ""
    model_version: str = ""
    touchpoints: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    province: str = ""
    city: str = ""
    risk_flags: tuple[str, ...] = ()  # "escalation", "churn"
    influence: float = 0.0
    keywords: tuple[str, ...] = ()
    event_id: str = ""
    simhash: int = 0
    analyzed_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"unknown label {self.label!r}")
        for name in ("touchpoints", "operators", "risk_flags", "keywords"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _freeze_times(self)


@dataclass(frozen=True)
class StoredPost:
    """A post as read back from the store, with its analysis and any human correction."""

    post: Post
    analysis: Analysis | None = None
    corrected_label: str = ""
    first_seen: datetime | None = None

    @property
    def label(self) -> str:
        if self.corrected_label:
            return self.corrected_label
        return self.analysis.label if self.analysis else ""


@dataclass(frozen=True)
class Event:
    """A group of near-duplicate or similar posts spoken of as one thing."""

    event_id: str
    title: str
    first_seen: datetime
    last_seen: datetime
    size: int = 1
    negative: int = 0
    keywords: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    simhash: int = 0  # of the event's first post, to match new posts to it
    sample_key: str = ""  # "platform:post_id" of a representative post
    city: str = ""  # where the event happens, when its posts name one city; "" when they do not

    def __post_init__(self) -> None:
        for name in ("keywords", "operators", "touchpoints"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _freeze_times(self)


@dataclass(frozen=True)
class Alert:
    """A crisis the rules found; its lifecycle lives in the store."""

    rule: str  # rule name from the rules file
    key: str  # dedup key within the rule (event id, city, source…)
    severity: str
    title: str
    reason: str  # why, in Chinese: counts against baseline
    opened_at: datetime
    updated_at: datetime | None = None
    status: str = "open"
    alert_id: int | None = None
    rule_type: str = ""
    scope: Mapping[str, Any] = field(default_factory=dict)  # operator, platform, touchpoint, region
    count: int = 0
    baseline: float = 0.0
    keywords: tuple[str, ...] = ()
    sample_keys: tuple[str, ...] = ()  # "platform:post_id" of sample posts
    event_id: str = ""
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    resolved_by: str = ""
    resolved_at: datetime | None = None
    resolution_note: str = ""
    reopened: int = 0

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.status not in ALERT_STATUSES:
            raise ValueError(f"unknown alert status {self.status!r}")
        object.__setattr__(self, "keywords", tuple(self.keywords))
        object.__setattr__(self, "sample_keys", tuple(self.sample_keys))
        _freeze_times(self)


@dataclass(frozen=True)
class Case:
    """A flagged post in the reply queue of the official-account staff."""

    platform: str
    post_id: str
    status: str = "new"
    priority: float = 0.0
    reason: str = ""
    assignee: str = ""
    reply_text: str = ""
    reply_url: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    first_reply_at: datetime | None = None
    followup_label: str = ""  # sentiment of the author's follow-up after our reply
    case_id: int | None = None

    def __post_init__(self) -> None:
        if self.status not in CASE_STATUSES:
            raise ValueError(f"unknown case status {self.status!r}")
        _freeze_times(self)

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.post_id}"


@dataclass(frozen=True)
class Subscriber:
    """Someone who receives alert emails, or a chat group (channel != "email": the configured channel of that
    name, e.g. a WeCom robot), with what they asked for."""

    email: str  # the address; "" for a chat channel (the channel is the group)
    name: str = ""
    min_severity: str = "yellow"
    operators: tuple[str, ...] = ()  # empty = all
    touchpoints: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # empty = all rules; e.g. ("flatline",) for operations
    mode: str = "immediate"  # immediate | hourly | daily
    daily_at: str = "08:00"  # Asia/Shanghai, for mode=daily
    active: bool = True
    token: str = ""  # unsubscribe token
    subscriber_id: int | None = None
    channel: str = "email"  # "email", or the name of a configured chat channel ([channels.NAME])
    mentions: tuple[str, ...] = ()  # chat channels: who the robot @s ("all", or mobiles / Feishu ids)
    mention_min_severity: str = "orange"  # the lowest severity whose messages carry the mentions

    def __post_init__(self) -> None:
        if self.channel == "email" and "@" not in self.email:
            raise ValueError(f"not an email address: {self.email!r}")
        if not self.channel:
            raise ValueError("channel must not be blank")
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.min_severity!r}")
        if self.mode not in SUBSCRIBER_MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if self.mention_min_severity not in SEVERITIES:
            raise ValueError(f"unknown mention severity {self.mention_min_severity!r}")
        for name in ("operators", "touchpoints", "regions", "platforms", "rules", "mentions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class CrawlRun:
    """One run of one source: what it fetched, found, rejected, and why it failed."""

    source: str  # e.g. "weibo", "zhihu"
    started_at: datetime
    finished_at: datetime | None = None
    pages: int = 0
    posts_found: int = 0
    posts_new: int = 0
    rejected: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)  # kind -> count ("http_418", "parse", ...)
    healthy: bool = True
    reason: str = ""  # why unhealthy
    run_id: int | None = None

    def __post_init__(self) -> None:
        _freeze_times(self)


@dataclass(frozen=True)
class SourceHealth:
    """The latest known state of one source, for `yuqing sources`, the dashboard and flatline alerts."""

    source: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_post_at: datetime | None  # newest new post delivered
    healthy: bool
    reason: str = ""
    runs: int = 0
    pages: int = 0
    posts_found: int = 0
    posts_new: int = 0
    rejected: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _freeze_times(self)


def health_from_runs(source: str, runs: Sequence[CrawlRun]) -> SourceHealth:
    """One source's health from its runs, oldest first (the embedded store's `source_health`; alert backtests,
    which replay it as it was at each moment)."""
    last = runs[-1]
    ok = [r for r in runs if r.healthy and r.finished_at]
    delivered = [r for r in runs if r.posts_new > 0 and r.finished_at]
    errors: dict[str, int] = {}
    for r in runs:
        for kind, n in r.errors.items():
            errors[kind] = errors.get(kind, 0) + int(n)
    return SourceHealth(
        source=source, last_run_at=last.finished_at or last.started_at,
        last_success_at=ok[-1].finished_at if ok else None,
        last_post_at=delivered[-1].finished_at if delivered else None,
        healthy=last.healthy, reason=last.reason, runs=len(runs), pages=sum(r.pages for r in runs),
        posts_found=sum(r.posts_found for r in runs), posts_new=sum(r.posts_new for r in runs),
        rejected=sum(r.rejected for r in runs), errors=errors)


@dataclass(frozen=True)
class Rejected:
    """An item that did not make it in: counted, logged and shown, never silently dropped."""

    source: str  # spider or stage
    stage: str  # "parse", "validate", "store", "email"
    reason: str
    url: str = ""
    sample: str = ""  # first bytes of what was rejected
    at: datetime | None = None

    def __post_init__(self) -> None:
        _freeze_times(self)


@dataclass(frozen=True)
class HotEntry:
    """One entry of a hot list (微博热搜, 百度热搜, 知乎热榜, 抖音热榜) as the board showed it at one poll."""

    board: str  # one of HOT_BOARDS
    word: str  # the entry as shown, without Weibo's #…# marks
    rank: int  # 1-based position among the ranked entries; 0 for a pinned entry above them (置顶)
    heat: int = 0  # the board's own heat figure (热度), 0 when it shows none
    url: str = ""
    label: str = ""  # the board's badge: 新, 热, 爆, 沸 … ("" when none)
    fetched_at: datetime | None = None
    pinned: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)  # board-specific (category, question id, raw badge code)

    def __post_init__(self) -> None:
        if self.board not in HOT_BOARDS:
            raise ValueError(f"unknown hot board {self.board!r}")
        if not self.word.strip():
            raise ValueError("hot entry without a word")
        if self.rank < 0:
            raise ValueError(f"negative rank {self.rank}")
        _freeze_times(self)

    @property
    def key(self) -> str:
        """The identity of an entry across polls: `board:word`."""
        return f"{self.board}:{self.word}"


@dataclass(frozen=True)
class HotTrack:
    """A watched hot-list entry followed across polls (OpsDB hot_tracks): why it is ours, when it was first and
    last on its board, its best and latest rank, and its status at the last poll (new, rising, steady, falling,
    gone). `ranks` holds (polled_at, rank, heat) oldest first when the reader asked for them."""

    board: str
    word: str
    first_seen: datetime
    last_seen: datetime
    rank: int  # at the last poll that showed it
    best_rank: int
    heat: int = 0
    status: str = "new"
    operators: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # the [hotlists] watch words it contains
    url: str = ""
    label: str = ""
    searched_at: datetime | None = None  # when the post search for its words was started (crawl-on-match)
    track_id: int | None = None
    ranks: tuple[tuple[datetime, int, int], ...] = ()

    def __post_init__(self) -> None:
        if self.board not in HOT_BOARDS:
            raise ValueError(f"unknown hot board {self.board!r}")
        if self.status not in HOT_STATUSES:
            raise ValueError(f"unknown hot-list status {self.status!r}")
        for name in ("operators", "words", "ranks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _freeze_times(self)

    @property
    def key(self) -> str:
        return f"{self.board}:{self.word}"


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: str = "viewer"
    display_name: str = ""
    disabled: bool = False  # `yuqing users disable`: cannot log in, sessions ended
    sessions_after: datetime | None = None  # sessions started before this are void (password reset, disable)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        _freeze_times(self)


@dataclass(frozen=True)
class OutboxMessage:
    """A message stored before it is sent, and sent exactly once. `channel` names how ("email", or a configured
    chat channel): `to` are its recipients on that channel, `subject`/`text`/`html`/`attachments` its payload. For a
    chat channel `subject` is the title, `text` the Markdown body and `link` where the whole story is (the
    dashboard); a body too long for the platform is cut there with that link."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    dedup_key: str = ""  # the same key is never enqueued twice
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mime type, bytes)
    channel: str = "email"
    created_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    owner: str = ""  # "host:pid" of the process holding its delivery lease ("" when nobody does)
    message_id: int | None = None
    link: str = ""  # chat channels: the dashboard page of the alert or report
    mentions: tuple[str, ...] = ()  # chat channels: who the robot @s in this message (its subscriber's, by severity)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(self.to))
        object.__setattr__(self, "mentions", tuple(self.mentions))
        object.__setattr__(self, "attachments", tuple(tuple(a) for a in self.attachments))
        _freeze_times(self)


@dataclass(frozen=True)
class Silence:
    """No notification for a rule (key "" = all its keys; rule "*" = every rule) until a time."""

    rule: str
    key: str
    until: datetime
    by: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        _freeze_times(self)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which record, when."""

    at: datetime
    actor: str
    action: str  # "claim", "assign", "reply", "resolve", "ignore", "ack", "correct_label"...
    target: str  # "case:12", "alert:3", "post:weibo:123"
    detail: str = ""

    def __post_init__(self) -> None:
        _freeze_times(self)


@dataclass(frozen=True)
class LoginFailures:
    """Failed logins counted for one username: since when, and until when it is locked (None: not locked)."""

    count: int = 0
    first_at: datetime | None = None
    locked_until: datetime | None = None

    def __post_init__(self) -> None:
        _freeze_times(self)

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and utc(now) < self.locked_until
