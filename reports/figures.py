"""What a brief says, as numbers: frozen records the gatherer fills and every writer reads (stdlib only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("daily", "weekly", "event")
KIND_ZH = {"daily": "舆情日报", "weekly": "舆情周报", "event": "舆情专报"}


@dataclass(frozen=True)
class Totals:
    """Posts of a period by sentiment (the effective label: a human correction wins)."""

    posts: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.posts if self.posts else None

    @property
    def net_sentiment(self) -> float | None:
        """(positive - negative) / posts, from -1 to 1; None without posts."""
        return (self.positive - self.negative) / self.posts if self.posts else None


@dataclass(frozen=True)
class OperatorFigures:
    """One operator's posts this period and the period before (share of voice is against the brief's total)."""

    operator: str
    now: Totals
    before: Totals | None = None


@dataclass(frozen=True)
class PostLine:
    """A representative post: where, when, what, and its link."""

    platform: str
    published_at: datetime
    text: str
    url: str = ""
    label: str = ""
    author: str = ""
    influence: float = 0.0


@dataclass(frozen=True)
class TimePoint:
    """Posts and negative posts in one bucket starting at `start` (an hour, or a local day in a weekly brief)."""

    start: datetime
    posts: int
    negative: int


@dataclass(frozen=True)
class EventFigures:
    """An event as the period saw it: its posts in the period, timeline and representative posts."""

    event_id: str
    title: str
    first_seen: datetime
    last_seen: datetime
    posts: int
    negative: int
    keywords: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    city: str = ""
    timeline: tuple[TimePoint, ...] = ()
    samples: tuple[PostLine, ...] = ()


@dataclass(frozen=True)
class AlertLine:
    alert_id: int
    severity: str
    title: str
    status: str
    opened_at: datetime
    responded_at: datetime | None = None  # acknowledged, or resolved without an acknowledgement
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class AlertFigures:
    """Alerts opened in the period, how many were resolved in it, and the minutes to respond and to resolve."""

    opened: tuple[AlertLine, ...] = ()
    resolved: int = 0
    median_response_minutes: float | None = None
    median_resolve_minutes: float | None = None


@dataclass(frozen=True)
class ReplyFigures:
    """The reply queue: replies made in the period, the median minutes from post to first reply, cases overdue at
    the end of the period, and the sentiment of the authors' follow-ups."""

    replied: int = 0
    median_reply_minutes: float | None = None
    overdue: int = 0
    waiting: int = 0
    due_minutes: int = 60
    followup: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Brief:
    """Everything one brief shows. `before` is None when there is no previous period to compare (专报)."""

    kind: str
    title: str
    start: datetime
    end: datetime
    generated_at: datetime
    totals: Totals
    before: Totals | None = None
    previous_start: datetime | None = None
    operator: str = ""  # the operator the brief is about ("" = every watched operator)
    scope: str = ""  # how the posts were chosen, in words
    operators: tuple[OperatorFigures, ...] = ()
    platforms: tuple[tuple[str, int], ...] = ()
    timeline: tuple[TimePoint, ...] = ()
    touchpoints: tuple[tuple[str, int, int, int], ...] = ()  # (touchpoint, negative, neutral, positive)
    regions: tuple[tuple[str, int, int], ...] = ()  # (province, posts, negative)
    hot_words: tuple[tuple[str, int], ...] = ()
    negative_words: tuple[tuple[str, int], ...] = ()
    events: tuple[EventFigures, ...] = ()
    subject: EventFigures | None = None  # the event of a 专报
    alerts: AlertFigures = AlertFigures()
    replies: ReplyFigures = ReplyFigures()
    bucket: str = "hour"  # the timeline's bucket: hour | day

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown brief kind {self.kind!r}")
