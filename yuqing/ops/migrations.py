"""Versioned OpsDB migrations, recorded as component "ops" in `schema_version`, run by every process that opens
the database (one at a time: PostgreSQL takes an advisory lock, SQLite a write lock, for the whole migration).

- A fresh database gets the latest tables (yuqing.ops.tables) and is stamped LATEST.
- A database at a version below NEW_STYLE is the SQLite file of an older yuqing (ops tables holding each record
  as a JSON `doc`, sessions, login failures, digest marks, crawl cursors and first sightings as JSON in a `state`
  table): its tables are renamed, the latest tables created, every record copied across and the `state` keys
  converted into their tables, then the old tables dropped, all in one transaction (nothing lost, or nothing
  changed). See yuqing.ops.legacy.
- A database at a version >= NEW_STYLE runs the steps after its version (STEPS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine

from yuqing.ops import tables as T
from yuqing.ops.engine import WRITE

log = logging.getLogger(__name__)

COMPONENT = "ops"
NEW_STYLE = 10  # versions below are the old SQLite-only ops schema (yuqing/store/sqlite_ops.py: 1, and 2 with
#               the outbox's `claimed_by`)
LOCK_KEY = 0x79757169  # "yuqi": pg_advisory_xact_lock key of the OpsDB migrations


def _subscriber_channel(conn: Connection) -> None:
    """Chat channels (issue 13): a subscriber names its channel, "email" for every existing one."""
    conn.execute(text("ALTER TABLE subscribers ADD COLUMN channel VARCHAR(40) NOT NULL DEFAULT 'email'"))


def _add_hot_tracks(conn: Connection) -> None:
    """Issue 15: the watched hot-list entries (hot_tracks) and their rank at each poll (hot_ranks)."""
    T.metadata.create_all(conn, tables=list(T.HOT_TABLES))


def _subscriber_mentions(conn: Connection) -> None:
    """Chat @mentions: who a chat subscription's robot @s ("all", mobiles, Feishu ids; none for every existing
    subscriber) and from which severity (orange: red and orange alerts mention, yellow and blue do not)."""
    have = {c["name"] for c in inspect(conn).get_columns("subscribers")}  # a test may rewind only the version
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    if "mentions" not in have:
        conn.execute(text(f"ALTER TABLE subscribers ADD COLUMN mentions {json_type} NOT NULL DEFAULT '[]'"))
    if "mention_min_severity" not in have:
        conn.execute(text("ALTER TABLE subscribers ADD COLUMN mention_min_severity VARCHAR(10) NOT NULL "
                          "DEFAULT 'orange'"))


STEPS: dict[int, Callable[[Connection], None]] = {  # version -> the step from version - 1
    11: _subscriber_channel,
    12: _add_hot_tracks,
    13: _subscriber_mentions,
}
LATEST = max(STEPS, default=NEW_STYLE)


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    row = conn.execute(select(T.schema_version.c.version).where(T.schema_version.c.component == COMPONENT)).first()
    return int(row[0]) if row else 0


def _stamp(conn: Connection, version: int) -> None:
    sv = T.schema_version
    if conn.execute(sv.update().where(sv.c.component == COMPONENT).values(version=version)).rowcount == 0:
        conn.execute(sv.insert().values(component=COMPONENT, version=version))


def migrate(engine: Engine) -> int:
    """Bring the database to LATEST; returns the version it was at. Safe to run from many processes at once."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            T.schema_version.create(conn, checkfirst=True)
            before = current_version(conn)
            if before >= LATEST:
                return before
            if before < NEW_STYLE:
                _create_latest(conn, before)
            else:
                for version in range(before + 1, LATEST + 1):
                    log.info("migrating the OpsDB to version %d", version)
                    STEPS[version](conn)
                    _stamp(conn, version)
            _stamp(conn, LATEST)
    return before


def _create_latest(conn: Connection, before: int) -> None:
    from yuqing.ops import legacy

    old = legacy.present(conn)
    if old:
        log.warning("upgrading the operational tables of an older yuqing (ops schema %d) in place: %s", before,
                    ", ".join(sorted(old)))
        legacy.rename(conn, old)
    T.metadata.create_all(conn, tables=T.OPS_TABLES)
    if old:
        counts = legacy.copy(conn, old)
        legacy.drop(conn, old)
        log.warning("upgraded: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))


def describe(conn: Any) -> int:
    return current_version(conn)
