"""SQLite tables for everything but posts: alerts, silences, subscribers, outbox, cases,
audit, crawl runs, state, rejected items and users. Mixed into SQLiteStore."""

from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import socket
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from yuqing.post import Alert, Case, CrawlRun, Rejected, SourceHealth, Subscriber, User, health_from_runs, now_utc
from yuqing.store import codec
from yuqing.store.base import EMAIL_LEASE, AuditEntry, OutboxMessage, Silence

OPS_MIGRATIONS: list[str] = [
    """
    CREATE TABLE alerts (
        alert_id INTEGER PRIMARY KEY AUTOINCREMENT, rule TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
        severity TEXT NOT NULL, opened_at REAL NOT NULL, updated_at REAL, doc TEXT NOT NULL
    );
    CREATE INDEX alerts_rule_key ON alerts(rule, key, alert_id);
    CREATE INDEX alerts_status ON alerts(status, opened_at);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY, rule TEXT NOT NULL, key TEXT NOT NULL, until REAL NOT NULL,
        by TEXT, reason TEXT
    );
    CREATE TABLE subscribers (
        subscriber_id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, token TEXT NOT NULL UNIQUE,
        active INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE TABLE outbox (
        message_id INTEGER PRIMARY KEY AUTOINCREMENT, dedup_key TEXT, recipients TEXT NOT NULL,
        subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT NOT NULL, attachments TEXT NOT NULL,
        created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
        sent_at REAL, last_error TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX outbox_dedup ON outbox(dedup_key) WHERE dedup_key IS NOT NULL;
    CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);
    CREATE TABLE cases (
        case_id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, post_id TEXT NOT NULL,
        status TEXT NOT NULL, assignee TEXT NOT NULL, priority REAL NOT NULL, created_at REAL, doc TEXT NOT NULL,
        UNIQUE (platform, post_id)
    );
    CREATE INDEX cases_status ON cases(status, priority);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL, detail TEXT NOT NULL
    );
    CREATE INDEX audit_target ON audit(target, id);
    CREATE TABLE crawl_runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, started_at REAL NOT NULL,
        finished_at REAL, healthy INTEGER NOT NULL, posts_new INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE INDEX crawl_runs_source ON crawl_runs(source, run_id);
    CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE rejected (
        id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL,
        url TEXT NOT NULL, sample TEXT NOT NULL, at REAL NOT NULL
    );
    CREATE INDEX rejected_at ON rejected(at);
    CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, doc TEXT NOT NULL);
    """,
    # 2: who holds an outbox lease (host:pid), so a restart on the same host takes over a killed process's batch
    """
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
    """,
]


def _found(cur: sqlite3.Cursor, what: str, ident: int | None) -> None:
    """Saving a record under an id the store never gave out is an error, not a silent no-op."""
    if cur.rowcount == 0:
        raise KeyError(f"no {what} with id {ident}")


def _doc(record: Any) -> str:
    return codec.dumps(codec.record_to_doc(record))


def lease_owner() -> str:
    """This process, as it signs an outbox lease: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether the process holding a lease still runs. Only this host's processes can be checked; any other
    holder (another host, an unreadable value) counts as alive, so its lease is waited out."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OpsMixin:
    """Needs `_tx()` and `_q()` from the store class."""

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...  # provided by SQLiteStore
    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...  # provided by SQLiteStore

    # ------------------------------------------------------------------ alerts
    def save_alert(self, alert: Alert) -> Alert:
        with self._tx() as db:
            if alert.alert_id is None:
                cur = db.execute("INSERT INTO alerts (rule, key, status, severity, opened_at, updated_at, doc) "
                                 "VALUES (?, ?, ?, ?, ?, ?, '{}')",
                                 (alert.rule, alert.key, alert.status, alert.severity, codec.ts(alert.opened_at),
                                  codec.ts(alert.updated_at or alert.opened_at)))
                alert = dataclasses.replace(alert, alert_id=cur.lastrowid)
            cur = db.execute("UPDATE alerts SET rule=?, key=?, status=?, severity=?, opened_at=?, updated_at=?, doc=? "
                             "WHERE alert_id=?",
                       (alert.rule, alert.key, alert.status, alert.severity, codec.ts(alert.opened_at),
                        codec.ts(alert.updated_at or alert.opened_at), _doc(alert), alert.alert_id))
            _found(cur, "alert", alert.alert_id)
        return alert

    @staticmethod
    def _alert(doc: str) -> Alert:
        return codec.doc_to_record(Alert, codec.loads(doc))  # type: ignore[no-any-return]

    def get_alert(self, alert_id: int) -> Alert | None:
        rows = self._q("SELECT doc FROM alerts WHERE alert_id=?", (alert_id,))
        return self._alert(rows[0][0]) if rows else None

    def find_alert(self, rule: str, key: str) -> Alert | None:
        rows = self._q("SELECT doc FROM alerts WHERE rule=? AND key=? ORDER BY alert_id DESC LIMIT 1", (rule, key))
        return self._alert(rows[0][0]) if rows else None

    def list_alerts(self, *, statuses: tuple[str, ...] = (), since: datetime | None = None,
                    limit: int = 100) -> list[Alert]:
        clauses, params = ["1"], []  # type: ignore[var-annotated]
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if since:
            clauses.append("coalesce(updated_at, opened_at) >= ?")
            params.append(codec.ts(since))
        rows = self._q(f"SELECT doc FROM alerts WHERE {' AND '.join(clauses)} "
                       "ORDER BY coalesce(updated_at, opened_at) DESC, alert_id DESC LIMIT ?", [*params, limit])
        return [self._alert(r[0]) for r in rows]

    def add_silence(self, silence: Silence) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO silences (rule, key, until, by, reason) VALUES (?, ?, ?, ?, ?)",
                       (silence.rule, silence.key, codec.ts(silence.until), silence.by, silence.reason))

    def active_silences(self, now: datetime) -> list[Silence]:
        rows = self._q("SELECT rule, key, until, by, reason FROM silences WHERE until > ? ORDER BY until",
                       (codec.ts(now),))
        return [Silence(r[0], r[1], codec.dt(r[2]), r[3] or "", r[4] or "") for r in rows]  # type: ignore[arg-type]

    # ------------------------------------------------------------------ subscribers
    def save_subscriber(self, sub: Subscriber) -> Subscriber:
        if not sub.token:
            sub = dataclasses.replace(sub, token=secrets.token_urlsafe(24))
        with self._tx() as db:
            if sub.subscriber_id is None:
                cur = db.execute("INSERT INTO subscribers (email, token, active, doc) VALUES (?, ?, ?, '{}')",
                                 (sub.email, sub.token, int(sub.active)))
                sub = dataclasses.replace(sub, subscriber_id=cur.lastrowid)
            cur = db.execute("UPDATE subscribers SET email=?, token=?, active=?, doc=? WHERE subscriber_id=?",
                       (sub.email, sub.token, int(sub.active), _doc(sub), sub.subscriber_id))
            _found(cur, "subscriber", sub.subscriber_id)
        return sub

    def list_subscribers(self, *, active_only: bool = False) -> list[Subscriber]:
        rows = self._q("SELECT doc FROM subscribers" + (" WHERE active=1" if active_only else "") +
                       " ORDER BY subscriber_id")
        return [codec.doc_to_record(Subscriber, codec.loads(r[0])) for r in rows]

    def delete_subscriber(self, subscriber_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM subscribers WHERE subscriber_id=?", (subscriber_id,))

    def unsubscribe(self, token: str) -> bool:
        rows = self._q("SELECT doc FROM subscribers WHERE token=?", (token,))
        if not rows:
            return False
        sub = codec.doc_to_record(Subscriber, codec.loads(rows[0][0]))
        self.save_subscriber(dataclasses.replace(sub, active=False))
        return True

    # ------------------------------------------------------------------ outbox
    def enqueue_email(self, msg: OutboxMessage) -> int | None:
        now = msg.created_at or now_utc()
        attachments = codec.dumps([[n, t, base64.b64encode(b).decode()] for n, t, b in msg.attachments])
        with self._tx() as db:
            try:
                cur = db.execute(
                    "INSERT INTO outbox (dedup_key, recipients, subject, text, html, attachments, created_at, "
                    "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (msg.dedup_key or None, codec.dumps(list(msg.to)), msg.subject, msg.text, msg.html, attachments,
                     codec.ts(now), codec.ts(msg.next_attempt_at or now)))
            except sqlite3.IntegrityError:
                return None
            return cur.lastrowid

    @staticmethod
    def _message(r: sqlite3.Row) -> OutboxMessage:
        return OutboxMessage(
            to=tuple(codec.loads(r["recipients"])), subject=r["subject"], text=r["text"], html=r["html"],
            dedup_key=r["dedup_key"] or "",
            attachments=tuple((n, t, base64.b64decode(b)) for n, t, b in codec.loads(r["attachments"], [])),
            created_at=codec.dt(r["created_at"]), attempts=r["attempts"], next_attempt_at=codec.dt(r["next_attempt_at"]),
            sent_at=codec.dt(r["sent_at"]), last_error=r["last_error"], message_id=r["message_id"])

    def due_emails(self, now: datetime, *, limit: int = 50) -> list[OutboxMessage]:
        rows = self._q("SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? "
                       "ORDER BY message_id LIMIT ?", (codec.ts(now), limit))
        return [self._message(r) for r in rows]

    def claim_emails(self, now: datetime, *, limit: int = 50, lease: timedelta = EMAIL_LEASE) -> list[OutboxMessage]:
        """Due messages, plus those leased by a process of this host that has died (SIGKILL mid-delivery): they
        need not wait out the lease."""
        me = lease_owner()
        with self._tx() as db:  # BEGIN IMMEDIATE: one claimer at a time, across processes
            rows = db.execute("SELECT * FROM outbox WHERE sent_at IS NULL AND (next_attempt_at <= ? OR "
                              "(claimed_by LIKE ? AND claimed_by != ?)) ORDER BY message_id",
                              (codec.ts(now), me.rsplit(":", 1)[0] + ":%", me)).fetchall()
            rows = [r for r in rows if r["next_attempt_at"] <= codec.ts(now) or not owner_alive(r["claimed_by"])][:limit]
            db.executemany("UPDATE outbox SET next_attempt_at=?, claimed_by=? WHERE message_id=?",
                           [(codec.ts(now + lease), me, r["message_id"]) for r in rows])
        return [self._message(r) for r in rows]

    def mark_email_sent(self, message_id: int, at: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET sent_at=?, attempts=attempts+1, last_error='', claimed_by='' "
                       "WHERE message_id=? AND sent_at IS NULL", (codec.ts(at), message_id))

    def mark_email_failed(self, message_id: int, error: str, next_attempt_at: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?, claimed_by='' "
                       "WHERE message_id=?", (error[:2000], codec.ts(next_attempt_at), message_id))

    def list_outbox(self, *, limit: int = 100) -> list[OutboxMessage]:
        return [self._message(r) for r in self._q("SELECT * FROM outbox ORDER BY message_id DESC LIMIT ?", (limit,))]

    # ------------------------------------------------------------------ cases and audit
    def save_case(self, case: Case) -> Case:
        if case.created_at is None:
            case = dataclasses.replace(case, created_at=now_utc())
        with self._tx() as db:
            if case.case_id is None:
                row = db.execute("SELECT case_id FROM cases WHERE platform=? AND post_id=?",
                                 (case.platform, case.post_id)).fetchone()
                if row:
                    case = dataclasses.replace(case, case_id=row[0])
                else:
                    cur = db.execute("INSERT INTO cases (platform, post_id, status, assignee, priority, created_at, doc) "
                                     "VALUES (?, ?, ?, ?, ?, ?, '{}')",
                                     (case.platform, case.post_id, case.status, case.assignee, case.priority,
                                      codec.ts(case.created_at)))
                    case = dataclasses.replace(case, case_id=cur.lastrowid)
            cur = db.execute("UPDATE cases SET status=?, assignee=?, priority=?, doc=? WHERE case_id=?",
                       (case.status, case.assignee, case.priority, _doc(case), case.case_id))
            _found(cur, "case", case.case_id)
        return case

    def get_case(self, case_id: int) -> Case | None:
        rows = self._q("SELECT doc FROM cases WHERE case_id=?", (case_id,))
        return codec.doc_to_record(Case, codec.loads(rows[0][0])) if rows else None

    def find_case(self, platform: str, post_id: str) -> Case | None:
        rows = self._q("SELECT doc FROM cases WHERE platform=? AND post_id=?", (platform, post_id))
        return codec.doc_to_record(Case, codec.loads(rows[0][0])) if rows else None

    def list_cases(self, *, statuses: tuple[str, ...] = (), assignee: str = "", limit: int = 200) -> list[Case]:
        clauses, params = ["1"], []  # type: ignore[var-annotated]
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if assignee:
            clauses.append("assignee=?")
            params.append(assignee)
        rows = self._q(f"SELECT doc FROM cases WHERE {' AND '.join(clauses)} ORDER BY priority DESC, case_id LIMIT ?",
                       [*params, limit])
        return [codec.doc_to_record(Case, codec.loads(r[0])) for r in rows]

    def add_audit(self, entry: AuditEntry) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                       (codec.ts(entry.at), entry.actor, entry.action, entry.target, entry.detail))

    def list_audit(self, *, target: str = "", limit: int = 200) -> list[AuditEntry]:
        sql = "SELECT at, actor, action, target, detail FROM audit"
        params: list[Any] = []
        if target:
            sql += " WHERE target=?"
            params.append(target)
        rows = self._q(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [AuditEntry(codec.dt(r[0]), r[1], r[2], r[3], r[4]) for r in rows]  # type: ignore[arg-type]

    # ------------------------------------------------------------------ sources
    def record_crawl_run(self, run: CrawlRun) -> CrawlRun:
        with self._tx() as db:
            if run.run_id is None:
                cur = db.execute("INSERT INTO crawl_runs (source, started_at, finished_at, healthy, posts_new, doc) "
                                 "VALUES (?, ?, ?, ?, ?, '{}')",
                                 (run.source, codec.ts(run.started_at), codec.ts(run.finished_at), int(run.healthy),
                                  run.posts_new))
                run = dataclasses.replace(run, run_id=cur.lastrowid)
            cur = db.execute("UPDATE crawl_runs SET source=?, started_at=?, finished_at=?, healthy=?, posts_new=?, "
                             "doc=? WHERE run_id=?", (run.source, codec.ts(run.started_at), codec.ts(run.finished_at),
                                          int(run.healthy), run.posts_new, _doc(run), run.run_id))
            _found(cur, "crawl run", run.run_id)
        return run

    def source_health(self) -> list[SourceHealth]:
        out: list[SourceHealth] = []
        for (source,) in self._q("SELECT DISTINCT source FROM crawl_runs ORDER BY source"):
            runs = [codec.doc_to_record(CrawlRun, codec.loads(r[0]))
                    for r in self._q("SELECT doc FROM crawl_runs WHERE source=? ORDER BY run_id", (source,))]
            out.append(health_from_runs(source, runs))
        return out

    def list_crawl_runs(self, *, source: str = "", limit: int = 1000) -> list[CrawlRun]:
        rows = self._q("SELECT doc FROM crawl_runs WHERE (?='' OR source=?) ORDER BY started_at DESC, run_id DESC "
                       "LIMIT ?", (source, source, limit))
        return [codec.doc_to_record(CrawlRun, codec.loads(r[0])) for r in rows]

    def get_state(self, name: str) -> str | None:
        rows = self._q("SELECT value FROM state WHERE name=?", (name,))
        return rows[0][0] if rows else None

    def set_state(self, name: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (name, value))

    def record_rejected(self, items: Sequence[Rejected]) -> None:
        now = now_utc()
        with self._tx() as db:
            db.executemany("INSERT INTO rejected (source, stage, reason, url, sample, at) VALUES (?, ?, ?, ?, ?, ?)",
                           [(r.source, r.stage, r.reason, r.url, r.sample[:500], codec.ts(r.at or now)) for r in items])

    def rejected_counts(self, *, since: datetime | None = None) -> dict[tuple[str, str, str], int]:
        rows = self._q("SELECT source, stage, reason, count(*) FROM rejected WHERE at >= ? GROUP BY 1, 2, 3",
                       (codec.ts(since) if since else 0,))
        return {(r[0], r[1], r[2]): int(r[3]) for r in rows}

    def list_rejected(self, *, limit: int = 100) -> list[Rejected]:
        rows = self._q("SELECT source, stage, reason, url, sample, at FROM rejected ORDER BY id DESC LIMIT ?", (limit,))
        return [Rejected(r[0], r[1], r[2], r[3], r[4], codec.dt(r[5])) for r in rows]

    # ------------------------------------------------------------------ users
    def save_user(self, user: User) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                       (user.username, user.password_hash, user.role, _doc(user)))

    def get_user(self, username: str) -> User | None:
        rows = self._q("SELECT doc FROM users WHERE username=?", (username,))
        return codec.doc_to_record(User, codec.loads(rows[0][0])) if rows else None

    def delete_user(self, username: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM users WHERE username=?", (username,)).rowcount > 0

    def list_users(self) -> list[User]:
        return [codec.doc_to_record(User, codec.loads(r[0])) for r in self._q("SELECT doc FROM users ORDER BY username")]
