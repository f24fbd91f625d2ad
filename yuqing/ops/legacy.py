"""Upgrading the operational tables of an older yuqing SQLite file (ops schema 1 or 2) in place.

Those tables kept each alert, subscriber, case, crawl run and user as a JSON `doc` (times as epoch seconds),
and a key/value `state` table held what had no table of its own. Every record is copied into the new tables
under its own id, and each `state` key becomes a row of the table it belongs to:

    session:<sha256>                    -> sessions (ended sessions, stored as "", are dropped)
    grant:<sha256>                      -> session_grants (used ones, stored as "", are dropped)
    login_fail:<sha256>                 -> login_failures
    alerts.hourly|quiet|daily.<id>      -> digest_marks (kind hourly|quiet|daily)
    alerts.subscriber_problem.<id>      -> digest_marks (kind problem)
    crawl:<source>:<name>               -> crawl_cursors
    alerts.source_first_seen.<source>   -> source_first_seen
    anything else (migrate:…, alerts.last_run, unknown keys) -> checkpoints, under the same name
"""

from __future__ import annotations

import dataclasses
import json
import logging
import typing
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection

from yuqing.ops import tables as T
from yuqing.records import Alert, Case, CrawlRun, Subscriber, User

log = logging.getLogger(__name__)

TABLES = ("alerts", "silences", "subscribers", "outbox", "cases", "audit", "crawl_runs", "state", "rejected", "users")
SESSION_TTL = timedelta(hours=12)  # what the old dashboard gave a session (older ones did not store its start)
GRANT_TTL = timedelta(seconds=60)
BATCH = 2000


def present(conn: Connection) -> list[str]:
    """The old tables in this database."""
    names = set(inspect(conn).get_table_names())
    return [t for t in TABLES if t in names]


def rename(conn: Connection, names: list[str]) -> None:
    for name in names:
        conn.execute(text(f'ALTER TABLE "{name}" RENAME TO "legacy_{name}"'))


def drop(conn: Connection, names: list[str]) -> None:
    for name in names:
        conn.execute(text(f'DROP TABLE "legacy_{name}"'))


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _record(cls: type, doc: dict[str, Any]) -> Any:
    """A record from an old `doc` (the old codec's record_to_doc: times as epoch seconds, tuples as lists)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in doc:
            continue
        value, hint = doc[f.name], str(hints[f.name])
        if "datetime" in hint and value is not None and not isinstance(value, datetime):
            value = _dt(value)
        elif hint.startswith("tuple") and value is not None:
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def _rows(conn: Connection, table: str, order: str) -> Any:
    return conn.execute(text(f'SELECT * FROM "legacy_{table}" ORDER BY {order}')).mappings()


def _put(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> int:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i:i + BATCH])
    return len(rows)


def copy(conn: Connection, names: list[str]) -> dict[str, int]:
    """Copy every old table into the new ones; returns rows written per new table."""
    counts: dict[str, int] = {}
    docs = {"alerts": (Alert, T.alerts, "alert_id"), "subscribers": (Subscriber, T.subscribers, "subscriber_id"),
            "cases": (Case, T.cases, "case_id"), "crawl_runs": (CrawlRun, T.crawl_runs, "run_id"),
            "users": (User, T.users, "username")}
    for name, (cls, table, key) in docs.items():
        if name in names:
            rows = []
            for r in _rows(conn, name, key):
                record = _record(cls, {**json.loads(r["doc"]), key: r[key]})
                rows.append(T.to_row(record, table))
            counts[name] = _put(conn, table, rows)
    if "silences" in names:
        counts["silences"] = _put(conn, T.silences, [
            {"id": r["id"], "rule": r["rule"], "key": r["key"], "until": _dt(r["until"]), "by": r["by"] or "",
             "reason": r["reason"] or ""} for r in _rows(conn, "silences", "id")])
    if "audit" in names:
        counts["audit"] = _put(conn, T.audit, [
            {"id": r["id"], "at": _dt(r["at"]), "actor": r["actor"], "action": r["action"], "target": r["target"],
             "detail": r["detail"]} for r in _rows(conn, "audit", "id")])
    if "rejected" in names:
        counts["rejected"] = _put(conn, T.rejected, [
            {"id": r["id"], "source": r["source"], "stage": r["stage"], "reason": r["reason"], "url": r["url"],
             "sample": r["sample"], "at": _dt(r["at"])} for r in _rows(conn, "rejected", "id")])
    if "outbox" in names:
        counts["outbox"] = _put(conn, T.outbox, [
            {"message_id": r["message_id"], "channel": "email", "dedup_key": r["dedup_key"],
             "recipients": json.loads(r["recipients"]), "subject": r["subject"],
             "payload": {"text": r["text"], "html": r["html"], "attachments": json.loads(r["attachments"] or "[]")},
             "created_at": _dt(r["created_at"]), "attempts": r["attempts"], "next_attempt_at": _dt(r["next_attempt_at"]),
             "sent_at": _dt(r["sent_at"]), "last_error": r["last_error"] or "",
             "owner": r.get("claimed_by") or ""}  # ops schema 2 recorded the lease holder
            for r in _rows(conn, "outbox", "message_id")])
    if "state" in names:
        counts.update(_state(conn))
    return counts


def _state(conn: Connection) -> dict[str, int]:
    subscribers = {r[0] for r in conn.execute(select(T.subscribers.c.subscriber_id))}
    pairs = ((r["name"], r["value"]) for r in _rows(conn, "state", "name"))
    return {t: _put(conn, getattr(T, t), rows) for t, rows in state_rows(pairs, subscribers).items()}


def state_rows(pairs: Iterable[tuple[str, str]], subscribers: set[int]) -> dict[str, list[dict[str, Any]]]:
    """The rows the old key/value state becomes, by table (see the module's docstring); also used for the state
    of an older Elasticsearch deployment (yuqing.storage.es_ops)."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in ("sessions", "session_grants", "login_failures",
                                                             "digest_marks",
                                                             "crawl_cursors", "source_first_seen", "checkpoints")}
    now = datetime.now(UTC)
    for name, value in pairs:
        kind, _, rest = name.partition(":")
        if kind in ("session", "grant"):
            if value:  # "" is a session that was ended, a grant that was used
                entry = json.loads(value)
                expires = _dt(entry["expires"])
                started = _dt(entry.get("started")) or expires - (SESSION_TTL if kind == "session" else GRANT_TTL)
                if kind == "session":
                    out["sessions"].append({"token_hash": rest, "username": entry["username"], "created_at": started,
                                            "expires_at": expires, "ended_at": None})
                else:
                    out["session_grants"].append({"grant_hash": rest, "username": entry["username"],
                                                  "created_at": started, "expires_at": expires, "used_at": None})
        elif kind == "login_fail":
            if value:
                entry = json.loads(value)
                out["login_failures"].append({"user_key": rest, "count": int(entry["count"]),
                                              "first_at": _dt(entry["first_at"]),
                                              "locked_until": _dt(entry.get("locked_until"))})
        elif kind == "crawl" and rest.count(":") >= 1:
            source, _, cursor = rest.partition(":")
            out["crawl_cursors"].append({"source": source, "name": cursor, "value": value, "updated_at": now})
        elif name.startswith(("alerts.hourly.", "alerts.quiet.", "alerts.daily.", "alerts.subscriber_problem.")):
            mark, _, sid = name.removeprefix("alerts.").rpartition(".")
            if value and sid.isdigit() and int(sid) in subscribers:
                out["digest_marks"].append({"subscriber_id": int(sid), "kind": mark.replace("subscriber_problem", "problem"),
                                            "value": value, "updated_at": now})
        elif name.startswith("alerts.source_first_seen."):
            out["source_first_seen"].append({"source": name.removeprefix("alerts.source_first_seen."),
                                             "first_seen": _dt(value)})
        else:
            if not name.startswith(("migrate:", "alerts.last_run")):
                log.warning("upgrade: state key %r kept as a checkpoint of that name", name)
            out["checkpoints"].append({"name": name, "value": value, "updated_at": now})
    return out
