"""The embedded post index: one SQLite file in WAL mode (the default).

Posts with their analysis in one row, multi-valued fields (operators, touchpoints, risk
flags, keywords) also in a tag table for indexed filters and facets, and an FTS5 index
over jieba words and character grams (see tokens.py). Schema changes are migrations of the
component "posts", recorded in `schema_version`, so a later release upgrades a file in place.
The OpsDB may share the file (its own component and tables); the two never read each other's tables.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index import codec
from yuqing.index.protocol import Bucket, PostQuery, WriteResult
from yuqing.index.sqlite_rollup import ROLLUP_MIGRATION, RollupMixin
from yuqing.index.tokens import fts5_match, index_tokens
from yuqing.records import Analysis, Event, Post, StoredPost, now_utc
from yuqing.vocab import LABELS

log = logging.getLogger(__name__)

POSTS_MIGRATIONS: list[str] = [
    # 1: posts, tags, full text, events
    """
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL, post_id TEXT NOT NULL, kind TEXT NOT NULL, title TEXT, text TEXT NOT NULL,
        url TEXT, author_id TEXT, author_name TEXT, author_verified INTEGER, author_followers INTEGER,
        reposts INTEGER, comments INTEGER, likes INTEGER, parent_id TEXT, ip_region TEXT, keyword TEXT,
        post_operators TEXT, extra TEXT, published_at REAL NOT NULL, crawled_at REAL,
        first_seen REAL, updated_at REAL,
        label TEXT, score REAL, model TEXT, model_version TEXT, touchpoints TEXT, operators TEXT,
        province TEXT, city TEXT, risk_flags TEXT, influence REAL, keywords TEXT, event_id TEXT,
        simhash TEXT, analyzed_at REAL,
        corrected_label TEXT NOT NULL DEFAULT '', corrected_by TEXT NOT NULL DEFAULT '', corrected_at REAL,
        eff_label TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX posts_published ON posts(published_at, eff_label, platform);
    CREATE INDEX posts_label ON posts(eff_label, published_at);
    CREATE INDEX posts_platform ON posts(platform, published_at);
    CREATE INDEX posts_province ON posts(province, city, published_at);
    CREATE INDEX posts_city ON posts(city, published_at);
    CREATE INDEX posts_event ON posts(event_id, published_at);
    CREATE INDEX posts_influence ON posts(influence);
    CREATE INDEX posts_corrected ON posts(corrected_at) WHERE corrected_label != '';
    CREATE TABLE post_tags (
        post INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, published_at REAL NOT NULL,
        label TEXT NOT NULL, platform TEXT NOT NULL,
        PRIMARY KEY (post, field, value)
    ) WITHOUT ROWID;
    CREATE INDEX post_tags_value ON post_tags(field, value, published_at);
    CREATE INDEX post_tags_time ON post_tags(field, published_at, value, label, platform);
    CREATE VIRTUAL TABLE posts_fts USING fts5(words, grams, tokenize = 'unicode61 remove_diacritics 0');
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY, first_seen REAL, last_seen REAL, size INTEGER, doc TEXT NOT NULL
    );
    CREATE INDEX events_last_seen ON events(last_seen);
    """,
    # 2: hourly rollup kept by triggers (see sqlite_rollup.py)
    ROLLUP_MIGRATION,
]

TAG_FIELDS = {"operator": "operators", "touchpoint": "touchpoints", "risk_flag": "risk_flags", "keyword": "keywords"}
COLUMN_FIELDS = {"label": "eff_label", "platform": "platform", "kind": "kind", "province": "province",
                 "city": "city", "event_id": "event_id"}
LIST_COLUMNS = ("post_operators", "touchpoints", "operators", "risk_flags", "keywords")
COLUMNS = ("key", *codec.POST_FIELDS, "post_operators", "extra", "published_at", "crawled_at", "label", "score",
           "model", "model_version", "touchpoints", "operators", "province", "city", "risk_flags", "influence",
           "keywords", "event_id", "simhash", "analyzed_at")
ANALYSIS_COLUMNS = ("label", "score", "model", "model_version", "touchpoints", "operators", "province", "city",
                    "risk_flags", "influence", "keywords", "event_id", "simhash", "analyzed_at")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (trigger bodies keep their inner semicolons)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip().strip(";").strip():
                out.append(buf)
            buf = ""
    if buf.strip() and sqlite3.complete_statement(buf + ";"):
        out.append(buf)
    elif buf.strip():
        raise ValueError(f"incomplete statement at the end of a migration: {buf.strip()[:80]}")
    return out


class SQLiteIndex(RollupMixin):
    """PostIndex over one SQLite file; safe to share between threads of one process."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the SQLite post index {path}: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Any) -> SQLiteIndex:
        return cls(settings.store.path, timeout=settings.store.busy_timeout_seconds)

    # ------------------------------------------------------------------ plumbing
    def _unavailable(self, what: str, exc: sqlite3.Error) -> StoreError:
        """SQLite's own errors as the index's: a locked, read-only, full, corrupt or closed file is unavailable;
        anything else (a constraint) a plain store error."""
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreError(f"SQLite {what} refused on {self.path}: {exc}")
        return StoreUnavailable(f"SQLite post index {self.path}: {what} failed: {exc}")

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction left to roll back (SQLite ends one itself on some errors)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._unavailable("starting a write (busy, read-only or not a database?)", exc) from exc
            try:
                yield self._db
            except sqlite3.Error as exc:
                self._rollback()
                raise self._unavailable("write", exc) from exc
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback()
                    raise self._unavailable("commit", exc) from exc

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._unavailable("query", exc) from exc

    def _migrate(self) -> None:
        """Apply missing migrations under one write lock, so processes opening a new file at once agree."""
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER)")
            for component, steps in (("posts", POSTS_MIGRATIONS),):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    row = self._db.execute("SELECT version FROM schema_version WHERE component=?", (component,)).fetchone()
                    current = row[0] if row else 0
                    for version, script in enumerate(steps[current:], start=current + 1):
                        log.info("migrating %s schema of %s to version %d", component, self.path, version)
                        for statement in _statements(script):
                            self._db.execute(statement)
                        self._db.execute("INSERT OR REPLACE INTO schema_version VALUES (?, ?)", (component, version))
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")

    def schema_versions(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self._q("SELECT component, version FROM schema_version")}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        try:
            self._q("SELECT 1")
        except (StoreError, sqlite3.ProgrammingError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    # ------------------------------------------------------------------ posts
    def upsert_posts(self, items: Sequence[tuple[Post, Analysis | None]]) -> WriteResult:
        inserted = updated = failed = 0
        errors: list[str] = []
        now = codec.ts(now_utc())
        with self._tx() as db:
            keys = [p.key for p, _ in items]
            existing: dict[str, sqlite3.Row] = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for row in db.execute(f"SELECT id, key, text, label FROM posts WHERE key IN ({marks})", chunk):
                    existing[row["key"]] = row
            for post, analysis in items:
                try:
                    doc = codec.post_to_doc(post, analysis)
                    row = self._row_values(doc)
                    old = existing.get(post.key)
                    if old is None:
                        cols = ",".join(COLUMNS)
                        cur = db.execute(
                            f"INSERT INTO posts ({cols}, first_seen, updated_at, eff_label) "
                            f"VALUES ({','.join('?' * len(COLUMNS))}, ?, ?, ?)",
                            [row[c] for c in COLUMNS] + [now, now, doc["label"]],
                        )
                        rowid = cur.lastrowid
                        existing[post.key] = {"id": rowid, "key": post.key, "text": post.text, "label": doc["label"]}  # type: ignore[assignment]
                        self._index_text(db, rowid, post, new=True)
                        inserted += 1
                    else:
                        rowid = old["id"]
                        cols = [c for c in COLUMNS if c != "key" and (analysis is not None or c not in ANALYSIS_COLUMNS)]
                        sets = ",".join(f"{c}=?" for c in cols)
                        db.execute(
                            f"UPDATE posts SET {sets}, updated_at=?, "
                            "eff_label=CASE WHEN corrected_label!='' THEN corrected_label ELSE ? END WHERE id=?",
                            [row[c] for c in cols] + [now, doc["label"] if analysis is not None else old["label"], rowid],
                        )
                        if old["text"] != post.text:
                            self._index_text(db, rowid, post, new=False)
                        updated += 1
                    if analysis is not None or old is None:
                        label = db.execute("SELECT eff_label FROM posts WHERE id=?", (rowid,)).fetchone()[0]
                        self._write_tags(db, rowid, doc, label)
                    else:
                        db.execute("UPDATE post_tags SET published_at=?, platform=? WHERE post=?",
                                   (doc["published_at"], doc["platform"], rowid))
                except (ValueError, TypeError, sqlite3.IntegrityError) as exc:
                    failed += 1
                    errors.append(f"{post.key}: {exc}")
                    log.error("store rejected post %s: %s", post.key, exc)
        return WriteResult(inserted, updated, failed, tuple(errors))

    @staticmethod
    def _row_values(doc: dict[str, Any]) -> dict[str, Any]:
        row = dict(doc)
        for c in LIST_COLUMNS:
            row[c] = codec.dumps(row[c])
        row["extra"] = codec.dumps(row["extra"])
        row["author_verified"] = int(bool(row["author_verified"]))
        return row

    @staticmethod
    def _index_text(db: sqlite3.Connection, rowid: int, post: Post, *, new: bool) -> None:
        words, grams = index_tokens(f"{post.title}\n{post.text}" if post.title else post.text)
        if not new:
            db.execute("DELETE FROM posts_fts WHERE rowid=?", (rowid,))
        db.execute("INSERT INTO posts_fts(rowid, words, grams) VALUES (?, ?, ?)", (rowid, words, grams))

    @staticmethod
    def _write_tags(db: sqlite3.Connection, rowid: int, doc: dict[str, Any], label: str) -> None:
        db.execute("DELETE FROM post_tags WHERE post=?", (rowid,))
        rows = [(rowid, field, value, doc["published_at"], label, doc["platform"])
                for field, column in TAG_FIELDS.items() for value in set(doc[column]) if value]
        db.executemany("INSERT OR IGNORE INTO post_tags VALUES (?, ?, ?, ?, ?, ?)", rows)

    @staticmethod
    def _stored(row: sqlite3.Row) -> StoredPost:
        doc = dict(row)
        for c in LIST_COLUMNS:
            doc[c] = codec.loads(doc[c], [])
        doc["extra"] = codec.loads(doc["extra"], {})
        doc["author_verified"] = bool(doc["author_verified"])
        return codec.doc_to_stored(doc)

    def get_post(self, platform: str, post_id: str) -> StoredPost | None:
        rows = self._q("SELECT * FROM posts WHERE key=?", (f"{platform}:{post_id}",))
        return self._stored(rows[0]) if rows else None

    def seen_ids(self, platform: str, post_ids: Iterable[str]) -> set[str]:
        ids = list(post_ids)
        seen: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = [f"{platform}:{x}" for x in ids[i : i + 500]]
            rows = self._q(f"SELECT post_id FROM posts WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            seen.update(r[0] for r in rows)
        return seen

    def _where(self, q: PostQuery, alias: str = "p") -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []

        def is_in(column: str, values: Sequence[Any]) -> None:
            clauses.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

        if q.since:
            clauses.append(f"{alias}.published_at >= ?")
            params.append(codec.ts(q.since))
        if q.until:
            clauses.append(f"{alias}.published_at < ?")
            params.append(codec.ts(q.until))
        for values, column in ((q.platforms, "platform"), (q.kinds, "kind"), (q.labels, "eff_label"),
                               (q.provinces, "province"), (q.cities, "city"), (q.keys, "key")):
            if values:
                is_in(column, values)
        if q.event_id:
            clauses.append(f"{alias}.event_id = ?")
            params.append(q.event_id)
        if q.min_influence is not None:
            clauses.append(f"{alias}.influence >= ?")
            params.append(q.min_influence)
        time_sql, time_params = self._tag_time(q)
        for values, field in ((q.operators, "operator"), (q.touchpoints, "touchpoint"), (q.risk_flags, "risk_flag")):
            if values:
                clauses.append(f"{alias}.id IN (SELECT post FROM post_tags WHERE field=? AND value IN "
                               f"({','.join('?' * len(values))}){time_sql})")
                params.extend([field, *values, *time_params])
        if q.text.strip():
            match = fts5_match(q.text)
            if match:
                clauses.append(f"{alias}.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
                params.append(match)
            else:  # only punctuation: a plain substring test, so nothing matching is hidden
                clauses.append(f"instr({alias}.text, ?) > 0")
                params.append(q.text.strip())
        return (" AND ".join(clauses) or "1"), params

    @staticmethod
    def _tag_time(q: PostQuery) -> tuple[str, list[Any]]:
        sql, params = "", []
        if q.since:
            sql += " AND published_at >= ?"
            params.append(codec.ts(q.since))
        if q.until:
            sql += " AND published_at < ?"
            params.append(codec.ts(q.until))
        return sql, params

    @staticmethod
    def _tags_suffice(q: PostQuery) -> bool:
        """True when post_tags alone can answer: only time, label and platform filters."""
        return dataclasses.replace(q, since=None, until=None, labels=(), platforms=()) == PostQuery()

    def _tag_where(self, q: PostQuery, field: str) -> tuple[str, list[Any]]:
        sql, params = self._tag_time(q)
        sql = "field = ?" + sql
        params = [field, *params]
        for values, column in ((q.labels, "label"), (q.platforms, "platform")):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                params.extend(values)
        return sql, params

    def search_posts(self, query: PostQuery, *, limit: int = 50, offset: int = 0,
                     order: str = "published_at_desc") -> list[StoredPost]:
        where, params = self._where(query)
        orders = {"published_at_desc": "p.published_at DESC, p.id DESC", "published_at_asc": "p.published_at, p.id",
                  "influence_desc": "p.influence DESC, p.published_at DESC"}
        if order == "relevance" and query.text.strip() and fts5_match(query.text):
            sql = (f"SELECT p.* FROM posts p JOIN (SELECT rowid, bm25(posts_fts) AS r FROM posts_fts "
                   f"WHERE posts_fts MATCH ?) f ON f.rowid = p.id WHERE {where} ORDER BY f.r, p.published_at DESC "
                   "LIMIT ? OFFSET ?")
            rows = self._q(sql, [fts5_match(query.text), *params, limit, offset])
        else:
            if order not in orders and order != "relevance":
                raise ValueError(f"unknown order {order!r}")
            sql = f"SELECT p.* FROM posts p WHERE {where} ORDER BY {orders.get(order, orders['published_at_desc'])} LIMIT ? OFFSET ?"
            rows = self._q(sql, [*params, limit, offset])
        return [self._stored(r) for r in rows]

    def _count_raw(self, query: PostQuery) -> int:
        where, params = self._where(query)
        return int(self._q(f"SELECT count(*) FROM posts p WHERE {where}", params)[0][0])

    def _volume_raw(self, query: PostQuery, *, bucket_seconds: int, by: str = "label") -> list[Bucket]:
        if bucket_seconds <= 0:
            raise ValueError("bucket_seconds must be positive")
        where, params = self._where(query)
        bucket = f"CAST(p.published_at / {int(bucket_seconds)} AS INTEGER) * {int(bucket_seconds)}"
        if by in TAG_FIELDS and self._tags_suffice(query):
            tag_where, tag_params = self._tag_where(query, by)
            tb = bucket.replace("p.published_at", "published_at")
            rows = self._q(f"SELECT {tb} AS b, value AS k, count(*) FROM post_tags WHERE {tag_where} "
                           "GROUP BY b, k ORDER BY b, k", tag_params)
        elif by in TAG_FIELDS:
            sql = (f"SELECT {bucket} AS b, t.value AS k, count(*) FROM posts p CROSS JOIN post_tags t "
                   f"ON t.post = p.id AND t.field = ? WHERE {where} GROUP BY b, k ORDER BY b, k")
            rows = self._q(sql, [by, *params])
        elif by in COLUMN_FIELDS:
            sql = f"SELECT {bucket} AS b, p.{COLUMN_FIELDS[by]} AS k, count(*) FROM posts p WHERE {where} GROUP BY b, k ORDER BY b, k"
            rows = self._q(sql, params)
        else:
            raise ValueError(f"cannot bucket by {by!r}")
        return [Bucket(codec.dt(r[0]), r[1] or "", int(r[2])) for r in rows]  # type: ignore[arg-type]

    def _facet_raw(self, query: PostQuery, field: str, *, size: int = 20) -> dict[str, int]:
        where, params = self._where(query)
        if field in TAG_FIELDS and self._tags_suffice(query):
            tag_where, tag_params = self._tag_where(query, field)
            rows = self._q(f"SELECT value, count(*) AS n FROM post_tags WHERE {tag_where} "
                           "GROUP BY value ORDER BY n DESC, value LIMIT ?", [*tag_params, size])
        elif field in TAG_FIELDS:
            sql = (f"SELECT t.value, count(*) AS n FROM posts p CROSS JOIN post_tags t "
                   f"ON t.post = p.id AND t.field = ? WHERE {where} GROUP BY t.value ORDER BY n DESC, t.value LIMIT ?")
            rows = self._q(sql, [field, *params, size])
        elif field in COLUMN_FIELDS:
            col = COLUMN_FIELDS[field]
            sql = (f"SELECT p.{col}, count(*) AS n FROM posts p WHERE {where} AND p.{col} != '' "
                   f"GROUP BY p.{col} ORDER BY n DESC, p.{col} LIMIT ?")
            rows = self._q(sql, [*params, size])
        else:
            raise ValueError(f"cannot facet on {field!r}")
        return {r[0]: int(r[1]) for r in rows}

    def iter_posts(self, *, after: str = "", batch: int = 1000) -> Iterator[list[StoredPost]]:
        last = after
        while True:
            rows = self._q("SELECT * FROM posts WHERE key > ? ORDER BY key LIMIT ?", (last, batch))
            if not rows:
                return
            last = rows[-1]["key"]
            yield [self._stored(r) for r in rows]

    def correct_label(self, platform: str, post_id: str, label: str, *, by: str) -> None:
        if label not in LABELS and label != "":
            raise ValueError(f"unknown label {label!r}")
        with self._tx() as db:
            cur = db.execute(
                "UPDATE posts SET corrected_label=?, corrected_by=?, corrected_at=?, "
                "eff_label=CASE WHEN ?!='' THEN ? ELSE coalesce(label, '') END WHERE key=?",
                (label, by, codec.ts(now_utc()), label, label, f"{platform}:{post_id}"),
            )
            if cur.rowcount == 0:
                raise KeyError(f"no post {platform}:{post_id}")
            db.execute("UPDATE post_tags SET label=(SELECT eff_label FROM posts WHERE key=?) "
                       "WHERE post=(SELECT id FROM posts WHERE key=?)", (f"{platform}:{post_id}",) * 2)

    def list_corrections(self) -> list[dict[str, Any]]:
        rows = self._q("SELECT platform, post_id, text, label, corrected_label, corrected_by, corrected_at "
                       "FROM posts WHERE corrected_label != '' ORDER BY corrected_at")
        return [{"platform": r[0], "post_id": r[1], "text": r[2], "model_label": r[3] or "", "label": r[4],
                 "by": r[5], "at": codec.dt(r[6])} for r in rows]

    # ------------------------------------------------------------------ events
    def upsert_events(self, events: Sequence[Event]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)",
                [(e.event_id, codec.ts(e.first_seen), codec.ts(e.last_seen), e.size,
                  codec.dumps(codec.record_to_doc(e))) for e in events],
            )

    def get_event(self, event_id: str) -> Event | None:
        rows = self._q("SELECT doc FROM events WHERE event_id=?", (event_id,))
        return self._event(rows[0][0]) if rows else None

    @staticmethod
    def _event(doc: str) -> Event:
        data = codec.loads(doc)
        data["simhash"] = int(data.get("simhash") or 0)
        return codec.doc_to_record(Event, data)  # type: ignore[no-any-return]

    def merge_events(self, survivor: Event, absorbed: Sequence[str]) -> int:
        ids = [a for a in dict.fromkeys(absorbed) if a and a != survivor.event_id]
        marks = ",".join("?" * len(ids))
        with self._tx() as db:
            moved = db.execute(f"UPDATE posts SET event_id=? WHERE event_id IN ({marks})",
                               (survivor.event_id, *ids)).rowcount if ids else 0
            db.execute(f"DELETE FROM events WHERE event_id IN ({marks})", ids)
            db.execute("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)",
                       (survivor.event_id, codec.ts(survivor.first_seen), codec.ts(survivor.last_seen), survivor.size,
                        codec.dumps(codec.record_to_doc(survivor))))
        return int(moved)

    def list_events(self, *, since: datetime | None = None, limit: int = 20, order: str = "size_desc") -> list[Event]:
        orders = {"size_desc": "size DESC, last_seen DESC", "last_seen_desc": "last_seen DESC"}
        if order not in orders:
            raise ValueError(f"unknown order {order!r}")
        rows = self._q(f"SELECT doc FROM events WHERE last_seen >= ? ORDER BY {orders[order]} LIMIT ?",
                       (codec.ts(since) if since else 0, limit))
        return [self._event(r[0]) for r in rows]
