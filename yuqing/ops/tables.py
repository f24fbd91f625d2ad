"""The OpsDB tables (SQLAlchemy Core), one column per record field, and the record <-> row mapping.

Times are `UTCDateTime`: TIMESTAMP WITH TIME ZONE on PostgreSQL, epoch seconds (REAL) on SQLite, like the
post index and the tables of older releases. Tuples and mappings are JSON (JSONB on PostgreSQL).
This module describes the latest schema; yuqing.ops.migrations creates it and upgrades older ones.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    TIMESTAMP,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from yuqing.records import utc


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: timestamptz on PostgreSQL, epoch seconds on SQLite."""

    impl = Float
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(Float())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return utc(value) if dialect.name == "postgresql" else utc(value).timestamp()

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromtimestamp(float(value), UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
metadata = MetaData()


def _text(name: str, **kw: Any) -> Column[Any]:
    return Column(name, Text, nullable=False, server_default="", **kw)


def _time(name: str, **kw: Any) -> Column[Any]:
    return Column(name, UTCDateTime(), **kw)


schema_version = Table(
    "schema_version", metadata,
    Column("component", String(40), primary_key=True), Column("version", Integer, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    _text("rule"), _text("key"), _text("severity"), _text("title"), _text("reason"),
    _time("opened_at", nullable=False), _time("updated_at"), _text("status"), _text("rule_type"),
    Column("scope", Json, nullable=False), Column("count", Integer, nullable=False, server_default="0"),
    Column("baseline", Float, nullable=False, server_default="0"), Column("keywords", Json, nullable=False),
    Column("sample_keys", Json, nullable=False), _text("event_id"), _text("acknowledged_by"),
    _time("acknowledged_at"), _text("resolved_by"), _time("resolved_at"), _text("resolution_note"),
    Column("reopened", Integer, nullable=False, server_default="0"),
    Index("ix_alerts_rule_key", "rule", "key", "alert_id"),
    Index("ix_alerts_status", "status", "opened_at"),
    Index("ix_alerts_updated", "updated_at"),
)

silences = Table(
    "silences", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("rule"), _text("key"), _time("until", nullable=False), _text("by"), _text("reason"),
    Index("ix_silences_until", "until"),
)

subscribers = Table(
    "subscribers", metadata,
    Column("subscriber_id", Integer, primary_key=True, autoincrement=True),
    _text("email"), _text("name"), _text("min_severity"), Column("operators", Json, nullable=False),
    Column("touchpoints", Json, nullable=False), Column("regions", Json, nullable=False),
    Column("platforms", Json, nullable=False), Column("rules", Json, nullable=False), _text("mode"),
    _text("daily_at"), Column("active", Boolean, nullable=False), Column("token", String(100), nullable=False, unique=True),
    Column("channel", String(40), nullable=False, server_default="email"),  # "email" or a [channels.NAME]
    Column("mentions", Json, nullable=False, server_default="[]"),  # chat: "all", mobiles or Feishu ids to @
    Column("mention_min_severity", String(10), nullable=False, server_default="orange"),
)

# When a subscriber's hourly digest, quiet-hours digest or 日报 was last queued, and any scheduling problem.
digest_marks = Table(
    "digest_marks", metadata,
    Column("subscriber_id", Integer, ForeignKey("subscribers.subscriber_id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # hourly | quiet | daily | problem
    _text("value"), _time("updated_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("message_id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(40), nullable=False, server_default="email"),
    Column("dedup_key", Text, unique=True),  # NULL: no dedup
    Column("recipients", Json, nullable=False), _text("subject"),
    Column("payload", Json, nullable=False),  # {"text", "html", "attachments": [[name, mime type, base64]], "link"}
    _time("created_at", nullable=False), Column("attempts", Integer, nullable=False, server_default="0"),
    _time("next_attempt_at", nullable=False), _time("sent_at"), _text("last_error"),
    _text("owner"),  # "host:pid" holding the delivery lease, "" when nobody does
    Index("ix_outbox_due", "sent_at", "next_attempt_at"),
)

cases = Table(
    "cases", metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=True),
    _text("platform"), _text("post_id"), _text("status"), Column("priority", Float, nullable=False, server_default="0"),
    _text("reason"), _text("assignee"), _text("reply_text"), _text("reply_url"), _time("created_at"),
    _time("updated_at"), _time("first_reply_at"), _text("followup_label"),
    UniqueConstraint("platform", "post_id", name="uq_cases_post"),
    Index("ix_cases_status", "status", "priority"),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _time("at", nullable=False), _text("actor"), _text("action"), _text("target"), _text("detail"),
    Index("ix_audit_target", "target", "id"),
)

crawl_runs = Table(
    "crawl_runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    _text("source"), _time("started_at", nullable=False), _time("finished_at"),
    *(Column(n, Integer, nullable=False, server_default="0") for n in ("pages", "posts_found", "posts_new", "rejected")),
    Column("errors", Json, nullable=False), Column("healthy", Boolean, nullable=False), _text("reason"),
    Index("ix_crawl_runs_source", "source", "run_id"),
    Index("ix_crawl_runs_started", "started_at"),
)

rejected = Table(
    "rejected", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _text("source"), _text("stage"), _text("reason"), _text("url"), _text("sample"), _time("at", nullable=False),
    Index("ix_rejected_at", "at"),
)

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True), _text("password_hash"), _text("role"), _text("display_name"),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    _time("sessions_after"),  # sessions started before this are void (password reset, disable)
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's token; the token is never stored
    _text("username"), _time("created_at", nullable=False), _time("expires_at", nullable=False), _time("ended_at"),
    Index("ix_sessions_user", "username"),
    Index("ix_sessions_expires", "expires_at"),
)

# One-time codes a browser exchanges for its HttpOnly session cookie (dashboard/web.py): single use, 60 s.
session_grants = Table(
    "session_grants", metadata,
    Column("grant_hash", String(64), primary_key=True), _text("username"), _time("created_at", nullable=False),
    _time("expires_at", nullable=False), _time("used_at"),
)

login_failures = Table(
    "login_failures", metadata,
    Column("user_key", String(64), primary_key=True),  # sha256 of the lower-cased username
    Column("count", Integer, nullable=False), _time("first_at", nullable=False), _time("locked_until"),
)

crawl_cursors = Table(
    "crawl_cursors", metadata,
    Column("source", String(40), primary_key=True), Column("name", String(80), primary_key=True),
    _text("value"), _time("updated_at"),
)

source_first_seen = Table(
    "source_first_seen", metadata,
    Column("source", String(40), primary_key=True), _time("first_seen", nullable=False),
)

job_leases = Table(
    "job_leases", metadata,
    Column("name", String(100), primary_key=True), _text("owner"), _time("acquired_at", nullable=False),
    _time("expires_at", nullable=False),
)

checkpoints = Table(
    "checkpoints", metadata,
    Column("name", String(200), primary_key=True), _text("value"), _time("updated_at"),
)

# Watched hot-list entries (crawlers.hotpoll): one row per (board, word), and its rank and heat at each poll.
hot_tracks = Table(
    "hot_tracks", metadata,
    Column("track_id", Integer, primary_key=True, autoincrement=True), Column("board", String(20), nullable=False),
    Column("word", String(400), nullable=False), _time("first_seen", nullable=False), _time("last_seen", nullable=False),
    Column("rank", Integer, nullable=False), Column("best_rank", Integer, nullable=False),
    Column("heat", BigInteger, nullable=False, server_default="0"), Column("status", String(20), nullable=False),
    Column("operators", Json, nullable=False), Column("words", Json, nullable=False), _text("url"), _text("label"),
    _time("searched_at"),
    UniqueConstraint("board", "word", name="uq_hot_tracks_board_word"),
    Index("ix_hot_tracks_last_seen", "last_seen"),
)

hot_ranks = Table(
    "hot_ranks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("track_id", Integer, ForeignKey("hot_tracks.track_id", ondelete="CASCADE"), nullable=False),
    _time("polled_at", nullable=False), Column("rank", Integer, nullable=False),
    Column("heat", BigInteger, nullable=False, server_default="0"),
    Index("ix_hot_ranks_track", "track_id", "polled_at"),
)
HOT_TABLES = (hot_tracks, hot_ranks)

# The scheduler's job store (APScheduler's SQLAlchemyJobStore, same columns), created here so that several
# `yuqing run` processes starting at once on a new database never race to create it.
apscheduler_jobs = Table(
    "apscheduler_jobs", metadata,
    Column("id", String(191), primary_key=True), Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

OPS_TABLES = [t for t in metadata.sorted_tables if t is not schema_version]
for _t in (alerts, silences, subscribers, outbox, cases, audit, crawl_runs, rejected, hot_tracks, hot_ranks):
    _t.dialect_options["sqlite"]["autoincrement"] = True  # ids are never reused (outbox dedup keys hold them)

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def to_row(record: Any, table: Table, **extra: Any) -> dict[str, Any]:
    """The columns of `table` that are fields of `record` (tuples as lists, mappings as dicts), plus `extra`."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        if f.name not in table.c:
            continue
        value = getattr(record, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "items"):
            value = dict(value)
        row[f.name] = value
    row.update(extra)
    return row


def from_row(cls: type, row: Any) -> Any:
    """The record of type `cls` from a row holding its fields (JSON lists back to tuples)."""
    hints = _hints(cls)
    mapping = row._mapping if hasattr(row, "_mapping") else row
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in mapping:
            continue
        value = mapping[f.name]
        if value is not None and typing.get_origin(hints[f.name]) is tuple and isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def insert_audit(conn: Any, entries: Any) -> None:
    """Write audit entries within the caller's transaction."""
    rows = [to_row(e, audit) for e in entries]
    if rows:
        conn.execute(insert(audit), rows)
