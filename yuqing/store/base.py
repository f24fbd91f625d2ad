"""The Store protocol: one interface, two implementations (SQLite, Elasticsearch).

Every method is synchronous and safe to call from one thread at a time per
instance. Writes are idempotent: the identity of a post is (platform, post_id).
Both implementations run the same contract tests (tests/store/test_contract.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from yuqing.post import (
    Alert,
    Analysis,
    Case,
    CrawlRun,
    Event,
    Post,
    Rejected,
    SourceHealth,
    StoredPost,
    Subscriber,
    User,
)

EMAIL_LEASE = timedelta(minutes=10)  # a claimed outbox message is someone's for this long (claim_emails)


class StoreError(Exception):
    """The store cannot be reached or refused a write; callers spool and retry."""


class StoreUnavailable(StoreError):
    """The store is down (connection refused, file not writable)."""


@dataclass(frozen=True)
class PostQuery:
    """Filters shared by search, counts and aggregations. Empty tuple = no filter."""

    text: str = ""  # full-text: every post containing these words
    since: datetime | None = None  # published_at >= since
    until: datetime | None = None  # published_at < until
    platforms: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # effective label (a correction wins)
    risk_flags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    event_id: str = ""
    min_influence: float | None = None
    keys: tuple[str, ...] = ()  # "platform:post_id"


@dataclass(frozen=True)
class WriteResult:
    inserted: int = 0
    updated: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxMessage:
    """An email stored before it is sent; sent exactly once."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    dedup_key: str = ""  # the same key is never enqueued twice
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mime type, bytes)
    created_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    message_id: int | None = None


@dataclass(frozen=True)
class Silence:
    rule: str
    key: str  # "" = the whole rule
    until: datetime
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str  # "claim", "assign", "reply", "resolve", "ignore", "ack", "correct_label"...
    target: str  # "case:12", "alert:3", "post:weibo:123"
    detail: str = ""


@dataclass
class Bucket:
    start: datetime
    key: str
    count: int


@runtime_checkable
class Store(Protocol):
    """What every part of yuqing needs from storage."""

    # --- lifecycle
    def close(self) -> None: ...
    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be used."""

    # --- posts
    def upsert_posts(self, items: Sequence[tuple[Post, Analysis | None]]) -> WriteResult: ...
    def get_post(self, platform: str, post_id: str) -> StoredPost | None: ...
    def seen_ids(self, platform: str, post_ids: Iterable[str]) -> set[str]: ...
    def search_posts(
        self, query: PostQuery, *, limit: int = 50, offset: int = 0, order: str = "published_at_desc"
    ) -> list[StoredPost]:
        """order: published_at_desc | published_at_asc | influence_desc | relevance"""
    def count_posts(self, query: PostQuery) -> int: ...
    def volume(self, query: PostQuery, *, bucket_seconds: int, by: str = "label") -> list[Bucket]:
        """Counts per time bucket (UTC-aligned) x key; by: label | platform | operator | touchpoint."""
    def facet(self, query: PostQuery, field: str, *, size: int = 20) -> dict[str, int]:
        """Counts by field: label platform operator touchpoint province city kind keyword event_id risk_flag."""
    def iter_posts(self, *, after: str = "", batch: int = 1000) -> Iterator[list[StoredPost]]:
        """Every post in key order, starting after key `after` (for migration)."""
    def correct_label(self, platform: str, post_id: str, label: str, *, by: str) -> None: ...
    def list_corrections(self) -> list[dict[str, Any]]: ...

    # --- events
    def upsert_events(self, events: Sequence[Event]) -> None: ...
    def get_event(self, event_id: str) -> Event | None: ...
    def list_events(self, *, since: datetime | None = None, limit: int = 20, order: str = "size_desc") -> list[Event]: ...

    # --- alerts
    def save_alert(self, alert: Alert) -> Alert:
        """Insert (alert_id None) or update; returns it with its id."""
    def get_alert(self, alert_id: int) -> Alert | None: ...
    def find_alert(self, rule: str, key: str) -> Alert | None:
        """The latest alert for (rule, key), whatever its status."""
    def list_alerts(self, *, statuses: tuple[str, ...] = (), since: datetime | None = None, limit: int = 100) -> list[Alert]: ...
    def add_silence(self, silence: Silence) -> None: ...
    def active_silences(self, now: datetime) -> list[Silence]: ...

    # --- subscribers and outbox
    def save_subscriber(self, sub: Subscriber) -> Subscriber: ...
    def list_subscribers(self, *, active_only: bool = False) -> list[Subscriber]: ...
    def delete_subscriber(self, subscriber_id: int) -> None: ...
    def unsubscribe(self, token: str) -> bool: ...
    def enqueue_email(self, msg: OutboxMessage) -> int | None:
        """Store a message before sending; None when dedup_key was already enqueued."""
    def due_emails(self, now: datetime, *, limit: int = 50) -> list[OutboxMessage]: ...
    def claim_emails(self, now: datetime, *, limit: int = 50, lease: timedelta = EMAIL_LEASE) -> list[OutboxMessage]:
        """Due messages, each leased to the caller: due for nobody else until `lease` has passed or it is marked
        sent or failed. Two delivering processes never get the same message; a crashed one's come back."""
    def mark_email_sent(self, message_id: int, at: datetime) -> None: ...
    def mark_email_failed(self, message_id: int, error: str, next_attempt_at: datetime) -> None: ...
    def list_outbox(self, *, limit: int = 100) -> list[OutboxMessage]: ...

    # --- reply queue
    def save_case(self, case: Case) -> Case: ...
    def get_case(self, case_id: int) -> Case | None: ...
    def find_case(self, platform: str, post_id: str) -> Case | None: ...
    def list_cases(self, *, statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 200) -> list[Case]: ...
    def add_audit(self, entry: AuditEntry) -> None: ...
    def list_audit(self, *, target: str = "", limit: int = 200) -> list[AuditEntry]: ...

    # --- sources
    def record_crawl_run(self, run: CrawlRun) -> CrawlRun: ...
    def source_health(self) -> list[SourceHealth]: ...
    def list_crawl_runs(self, *, source: str = "", limit: int = 1000) -> list[CrawlRun]:
        """The latest runs (of one source, or all), newest first."""
    def get_state(self, name: str) -> str | None:
        """Small persistent key/value state (crawl cursors, last alert evaluation)."""
    def set_state(self, name: str, value: str) -> None: ...
    def record_rejected(self, items: Sequence[Rejected]) -> None: ...
    def rejected_counts(self, *, since: datetime | None = None) -> dict[tuple[str, str, str], int]:
        """(source, stage, reason) -> count."""
    def list_rejected(self, *, limit: int = 100) -> list[Rejected]: ...

    # --- users
    def save_user(self, user: User) -> None: ...
    def get_user(self, username: str) -> User | None: ...
    def delete_user(self, username: str) -> bool:
        """Remove a user; False when there was none."""
    def list_users(self) -> list[User]: ...
