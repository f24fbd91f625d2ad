"""The OpsDB protocol: the day-to-day records (alerts, silences, subscribers and their digest marks, outbox,
reply cases, audit, users, sessions, login failures, crawl runs, rejected items, cursors, leases, hot-list tracks).

One implementation over SQLAlchemy Core (yuqing.ops.sql): SQLite by default, PostgreSQL by URL when several
processes on several hosts share the work. Updates that must not race are single statements or row-locked
transactions (outbox claims, login failures, leases, case and alert transitions). The contract tests
(tests/ops/test_contract.py) run on both databases.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.records import (
    Alert,
    AuditEntry,
    Case,
    CrawlRun,
    HotTrack,
    LoginFailures,
    OutboxMessage,
    Rejected,
    Silence,
    SourceHealth,
    Subscriber,
    User,
)

__all__ = ["MESSAGE_LEASE", "OpsDB", "StoreError", "StoreUnavailable", "holder_is_dead", "owner_id"]

MESSAGE_LEASE = timedelta(minutes=10)  # a claimed outbox message is its claimer's for this long


def owner_id() -> str:
    """Who holds a lease: "host:pid" (a restart on the same host can tell a dead holder from a live one)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(owner: str) -> bool:
    """True when `owner` ("host:pid") is a process of this host that no longer runs."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


AlertChange = Callable[[Alert], tuple[Alert, Sequence[AuditEntry]]]
CaseChange = Callable[[Case], tuple[Case, Sequence[AuditEntry]]]


@runtime_checkable
class OpsDB(Protocol):
    """What yuqing keeps besides the posts."""

    # --- lifecycle
    def close(self) -> None: ...
    def ping(self) -> None:
        """Raise StoreUnavailable when the database cannot be used."""
    def describe(self) -> str:
        """Where it is (the URL, password masked) and its schema version."""

    # --- alerts and silences
    def save_alert(self, alert: Alert) -> Alert:
        """Insert (alert_id None) or update; returns it with its id."""
    def get_alert(self, alert_id: int) -> Alert | None: ...
    def find_alert(self, rule: str, key: str) -> Alert | None:
        """The latest alert for (rule, key), whatever its status."""
    def list_alerts(self, *, statuses: tuple[str, ...] = (), since: datetime | None = None,
                    limit: int = 100) -> list[Alert]:
        """Most recently changed first; `since` compares the last change (updated_at, else opened_at)."""
    def update_alert(self, alert_id: int, change: AlertChange) -> Alert:
        """Apply `change` to the alert with its row locked and write its audit entries in the same transaction;
        KeyError when there is no such alert; whatever `change` raises aborts it."""
    def relink_alerts(self, event_ids: Sequence[str], to_event: str) -> int:
        """Point the alerts of `event_ids` at `to_event` (events merged into it); returns how many changed."""
    def add_silence(self, silence: Silence) -> None: ...
    def active_silences(self, now: datetime) -> list[Silence]: ...

    # --- subscribers and their digest marks
    def save_subscriber(self, sub: Subscriber) -> Subscriber: ...
    def get_subscriber(self, subscriber_id: int) -> Subscriber | None: ...
    def list_subscribers(self, *, active_only: bool = False) -> list[Subscriber]: ...
    def delete_subscriber(self, subscriber_id: int) -> None: ...
    def unsubscribe(self, token: str) -> bool: ...
    def get_mark(self, subscriber_id: int, kind: str) -> str:
        """The last digest key queued for (subscriber, hourly|quiet|daily), or its noted problem; "" when none."""
    def set_mark(self, subscriber_id: int, kind: str, value: str, now: datetime) -> None: ...

    # --- outbox: stored before sending, sent exactly once
    def enqueue(self, msg: OutboxMessage) -> int | None:
        """Store a message; None when its dedup_key was already enqueued."""
    def due_messages(self, now: datetime, *, limit: int = 50, channel: str = "") -> list[OutboxMessage]: ...
    def claim_messages(self, now: datetime, owner: str, *, limit: int = 50, lease: timedelta = MESSAGE_LEASE,
                       channel: str = "") -> list[OutboxMessage]:
        """Due messages, each leased to `owner` ("host:pid") until now + lease or until marked sent or failed:
        two deliverers never get the same message (row locks; SKIP LOCKED on PostgreSQL). Messages leased by a
        process of this host that is no longer running are due again at once."""
    def mark_sent(self, message_id: int, at: datetime) -> None: ...
    def mark_failed(self, message_id: int, error: str, next_attempt_at: datetime) -> None: ...
    def count_sent(self, channel: str, since: datetime) -> int:
        """Messages of `channel` sent at or after `since` (every process's: a chat channel's rate limit)."""
    def list_outbox(self, *, limit: int = 100) -> list[OutboxMessage]:
        """Newest first."""

    # --- reply cases and audit
    def save_case(self, case: Case) -> Case:
        """Insert or update; one case per post (a new case for a post that has one updates it)."""
    def get_case(self, case_id: int) -> Case | None: ...
    def find_case(self, platform: str, post_id: str) -> Case | None: ...
    def list_cases(self, *, statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 200) -> list[Case]: ...
    def update_case(self, case_id: int, change: CaseChange) -> Case:
        """Like update_alert, for a case (yuqing.ops.queue's transitions)."""
    def add_audit(self, entry: AuditEntry) -> None: ...
    def list_audit(self, *, target: str = "", limit: int = 200) -> list[AuditEntry]:
        """Newest first."""

    # --- sources: crawl runs, rejected items, cursors, first sight
    def record_crawl_run(self, run: CrawlRun) -> CrawlRun:
        """Insert (run_id None) or update a run."""
    def source_health(self) -> list[SourceHealth]: ...
    def list_crawl_runs(self, *, source: str = "", limit: int = 1000) -> list[CrawlRun]:
        """The latest runs (of one source, or all), newest first."""
    def record_rejected(self, items: Sequence[Rejected]) -> None: ...
    def rejected_counts(self, *, since: datetime | None = None) -> dict[tuple[str, str, str], int]:
        """(source, stage, reason) -> count."""
    def list_rejected(self, *, limit: int = 100) -> list[Rejected]: ...
    def get_cursor(self, source: str, name: str) -> str | None:
        """A crawler's persistent position (e.g. "last_success") for one source."""
    def set_cursor(self, source: str, name: str, value: str, now: datetime) -> None: ...
    def source_first_seen(self, source: str, now: datetime) -> datetime:
        """When a source was first seen by the alert engine: `now` the first time, the stored time afterwards."""

    # --- hot lists: watched entries followed across polls (crawlers.hotpoll)
    def record_hot_poll(self, board: str, polled_at: datetime, seen: Sequence[HotTrack]) -> list[HotTrack]:
        """One successful poll of a board in one transaction: the watched entries it showed get their rank and heat
        at `polled_at` and a status (new, rising, steady, falling); the board's other listed entries become gone.
        Returns the tracks it changed."""
    def list_hot_tracks(self, *, since: datetime | None = None, boards: Sequence[str] = (),
                        statuses: Sequence[str] = (), with_ranks: bool = False, limit: int = 200) -> list[HotTrack]:
        """Most recently seen first; with_ranks adds each track's (polled_at, rank, heat) since `since`."""
    def hot_tracks_to_search(self, *, limit: int = 20) -> list[HotTrack]:
        """Listed tracks whose words the post search has not been started for."""
    def mark_hot_searched(self, track_ids: Sequence[int], at: datetime) -> None: ...

    # --- users, sessions, login failures
    def save_user(self, user: User) -> None: ...
    def get_user(self, username: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def delete_user(self, username: str) -> bool: ...
    def add_session(self, token_hash: str, username: str, created_at: datetime, expires_at: datetime) -> None: ...
    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The user of a live session: not ended, not expired, the user still there, not disabled, and the session
        started after the user's `sessions_after` (a password reset)."""
    def end_session(self, token_hash: str, now: datetime) -> None: ...
    def end_sessions(self, username: str, now: datetime) -> int:
        """End every live session of a user (one statement); how many were live."""
    def add_grant(self, grant_hash: str, username: str, created_at: datetime, expires_at: datetime) -> None:
        """A one-time code a browser exchanges for its session cookie."""
    def redeem_grant(self, grant_hash: str, now: datetime) -> str | None:
        """Use up a grant (once, whoever asks first); its username when it was live, else None."""
    def login_failures(self, user_key: str) -> LoginFailures:
        """The failures counted for a username key, as stored (the caller decides what has expired)."""
    def add_login_failure(self, user_key: str, now: datetime, *, max_failures: int, window: timedelta,
                          lock: timedelta) -> tuple[LoginFailures, bool]:
        """Count one failure in one atomic statement: a window that has passed (or a lock that has ended)
        starts over; the failure that reaches `max_failures` locks until now + lock. Returns the count after
        it and whether this failure set the lock. Concurrent failures are all counted."""
    def clear_login_failures(self, user_key: str) -> LoginFailures:
        """Forget the failures; returns what was stored."""

    # --- leases (one runner of a job at a time, across processes and hosts) and checkpoints
    def acquire_lease(self, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease `name` until now + ttl: True when free, expired, already ours, or held by a
        process of this host that is no longer running."""
    def release_lease(self, name: str, owner: str) -> None: ...
    def get_checkpoint(self, name: str) -> str | None:
        """Progress of a resumable job (`yuqing store migrate`)."""
    def set_checkpoint(self, name: str, value: str, now: datetime) -> None: ...
