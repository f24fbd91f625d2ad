"""The PostIndex protocol: posts and events, full-text search and aggregations.

Two implementations: SQLite with FTS5 (yuqing.index.sqlite, the default) and Elasticsearch
(yuqing.index.elastic). Every method is synchronous and safe to call from one thread at a time per
instance. Writes are idempotent: the identity of a post is (platform, post_id). Both run the same
contract tests (tests/index/test_contract.py). Everything else (alerts, users, outbox …) is the OpsDB's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.records import Analysis, Event, Post, StoredPost

__all__ = ["Bucket", "PostIndex", "PostQuery", "StoreError", "StoreUnavailable", "WriteResult"]


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


@dataclass
class Bucket:
    start: datetime
    key: str
    count: int


@runtime_checkable
class PostIndex(Protocol):
    """The searchable posts and their events."""

    # --- lifecycle
    def close(self) -> None: ...
    def ping(self) -> None:
        """Raise StoreUnavailable when the index cannot be used."""

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
        """Every post in key order, starting after key `after` (for migration and reanalysis)."""
    def correct_label(self, platform: str, post_id: str, label: str, *, by: str) -> None: ...
    def list_corrections(self) -> list[dict[str, Any]]: ...

    # --- events
    def upsert_events(self, events: Sequence[Event]) -> None: ...
    def get_event(self, event_id: str) -> Event | None: ...
    def list_events(self, *, since: datetime | None = None, limit: int = 20, order: str = "size_desc") -> list[Event]: ...
    def merge_events(self, survivor: Event, absorbed: Sequence[str]) -> int:
        """Store `survivor` and move the posts of the `absorbed` events to it, then delete those events; returns the
        posts moved. Idempotent: merging again moves nothing and stores the same event."""
        ...
