"""Copy everything from one store to another, resumably.

Posts are copied in key order with a checkpoint (the last key) kept in the target's state after every batch;
records with an identity (alerts, subscribers, cases, users, events, corrections, state) are written again
by id; append-only logs (audit, rejected, outbox, silences, crawl runs) are checkpointed by how many were
copied, after each one.
Running it again continues where it stopped and copies only what is new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from yuqing.post import now_utc
from yuqing.store.base import PostQuery

log = logging.getLogger(__name__)

ALL = 1_000_000_000
Progress = Callable[[str, int, int], None]  # (kind, done, total)


@dataclass
class MigrationReport:
    copied: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # kind -> why it could not be copied
    renumbered: dict[str, int] = field(default_factory=dict)  # kind -> records that got another id


def _noop(kind: str, done: int, total: int) -> None:
    return None


def crawl_runs(store: Any) -> list[Any] | None:
    """Every crawl run in the order it was recorded: the embedded store's table by run id (insertion order, so a
    resumed copy lines up), or `list_crawl_runs` reversed (Elasticsearch)."""
    if hasattr(store, "_q"):
        from yuqing.post import CrawlRun
        from yuqing.store import codec

        return [codec.doc_to_record(CrawlRun, codec.loads(r[0]))
                for r in store._q("SELECT doc FROM crawl_runs ORDER BY run_id")]
    if hasattr(store, "list_crawl_runs"):
        return list(reversed(store.list_crawl_runs(limit=ALL)))
    return None


def state_of(store: Any) -> dict[str, str] | None:
    """The whole key/value state: `list_state` (Elasticsearch) or the embedded store's table."""
    if hasattr(store, "list_state"):
        return dict(store.list_state())
    if hasattr(store, "_q"):
        return {r[0]: r[1] for r in store._q("SELECT name, value FROM state ORDER BY name")}
    return None


class Migration:
    """One copy from `source` to `target`; `name` keys the checkpoints (one per source)."""

    def __init__(self, source: Any, target: Any, *, name: str, batch: int = 1000,
                 progress: Progress = _noop) -> None:
        self.source, self.target, self.name = source, target, name
        self.batch, self.progress = batch, progress
        self.report = MigrationReport()

    def key(self, kind: str) -> str:
        return f"migrate:{self.name}:{kind}"

    def run(self) -> MigrationReport:
        self.posts()
        self.corrections()
        self.by_id("events", lambda: self.source.list_events(limit=ALL, order="size_desc"),
                   lambda rows: self.target.upsert_events(rows))
        self.by_id("alerts", lambda: sorted(self.source.list_alerts(limit=ALL), key=lambda a: a.alert_id or 0),
                   lambda rows: [self._keep_id("alerts", a, "alert_id", self.target.save_alert,
                                               lambda i: self.target.get_alert(i) is not None) for a in rows])
        self.by_id("subscribers", lambda: self.source.list_subscribers(), self._copy_subscribers)
        self.by_id("cases", lambda: sorted(self.source.list_cases(limit=ALL), key=lambda c: c.case_id or 0),
                   lambda rows: [self._keep_id("cases", c, "case_id", self.target.save_case,
                                               lambda i: self.target.get_case(i) is not None) for c in rows])
        self.by_id("users", lambda: self.source.list_users(), lambda rows: [self.target.save_user(u) for u in rows])
        self.appended("silences", lambda: self.source.active_silences(now_utc()), self.target.add_silence)
        self.appended("audit", lambda: list(reversed(self.source.list_audit(limit=ALL))), self.target.add_audit)
        self.appended("outbox", lambda: list(reversed(self.source.list_outbox(limit=ALL))), self._copy_email)
        self.appended("rejected", lambda: list(reversed(self.source.list_rejected(limit=ALL))),
                      lambda r: self.target.record_rejected([r]))
        runs = crawl_runs(self.source)
        if runs is None:
            self.report.skipped["crawl_runs"] = "the source store cannot list crawl runs (no list_crawl_runs)"
        else:
            self.appended("crawl_runs", lambda: runs, lambda r: self.target.record_crawl_run(replace(r, run_id=None)))
        state = state_of(self.source)
        if state is None:
            self.report.skipped["state"] = "the source store cannot list its state (no list_state)"
        else:
            self.by_id("state", lambda: [(k, v) for k, v in state.items() if not k.startswith("migrate:")],
                       lambda rows: [self.target.set_state(k, v) for k, v in rows])
        return self.report

    def posts(self) -> None:
        after = self.target.get_state(self.key("posts")) or ""
        total = self.source.count_posts(PostQuery())
        done = self.target.count_posts(PostQuery()) if after else 0
        copied = 0
        self.progress("posts", min(done, total), total)
        for batch in self.source.iter_posts(after=after, batch=self.batch):
            result = self.target.upsert_posts([(sp.post, sp.analysis) for sp in batch])
            if result.failed:
                raise RuntimeError(f"target refused {result.failed} posts: {'; '.join(result.errors[:3])}")
            self.target.set_state(self.key("posts"), batch[-1].post.key)
            copied += len(batch)
            done += result.inserted
            self.progress("posts", min(done, total), total)
        self.report.copied["posts"] = copied

    def corrections(self) -> None:
        """Human labels: setting one again changes nothing, so they are simply copied."""
        self.by_id("corrections", lambda: self.source.list_corrections(), lambda rows: [
            self.target.correct_label(r["platform"], r["post_id"], r["label"], by=r.get("by") or "migrate")
            for r in rows])

    def _keep_id(self, kind: str, record: Any, id_field: str, save: Callable[[Any], Any],
                 exists: Callable[[int], bool]) -> None:
        """Save under the source's id: overwrite when the target has it, else insert and check the new id."""
        rid = getattr(record, id_field)
        if rid is not None and exists(rid):
            save(record)
            return
        saved = save(replace(record, **{id_field: None}))
        if getattr(saved, id_field) != rid:
            self.report.renumbered[kind] = self.report.renumbered.get(kind, 0) + 1
            log.warning("%s %s got id %s in the target", kind, rid, getattr(saved, id_field))

    def _copy_subscribers(self, rows: list[Any]) -> None:
        have = {s.subscriber_id for s in self.target.list_subscribers()}
        for sub in rows:
            self._keep_id("subscribers", sub, "subscriber_id", self.target.save_subscriber, lambda i: i in have)

    def by_id(self, kind: str, read: Callable[[], list[Any]], write: Callable[[list[Any]], Any]) -> None:
        """Records with their own identity: writing them again overwrites, so no checkpoint is needed."""
        rows = read()
        for i in range(0, len(rows), self.batch):
            write(rows[i:i + self.batch])
            self.progress(kind, min(i + self.batch, len(rows)), len(rows))
        self.report.copied[kind] = len(rows)

    def appended(self, kind: str, read: Callable[[], list[Any]], write: Callable[[Any], Any]) -> None:
        """Append-only records, oldest first: skip as many as were copied before, checkpoint after each."""
        rows = read()
        start = int(self.target.get_state(self.key(kind)) or 0)
        for n, row in enumerate(rows[start:], start=start + 1):
            write(row)
            self.target.set_state(self.key(kind), str(n))
            if n % self.batch == 0 or n == len(rows):
                self.progress(kind, n, len(rows))
        self.report.copied[kind] = max(0, len(rows) - start)

    def _copy_email(self, msg: Any) -> None:
        new_id = self.target.enqueue_email(replace(msg, message_id=None, attempts=0, sent_at=None,
                                                   next_attempt_at=None, last_error=""))
        if new_id is None:
            return  # already there (same dedup key)
        failures = msg.attempts - (1 if msg.sent_at else 0)
        for _ in range(max(0, failures)):
            self.target.mark_email_failed(new_id, msg.last_error or "failed before migration",
                                          msg.next_attempt_at or now_utc())
        if msg.sent_at:
            self.target.mark_email_sent(new_id, msg.sent_at)


def migrate(source: Any, target: Any, *, name: str, batch: int = 1000, progress: Progress = _noop) -> MigrationReport:
    """Copy everything from `source` into `target`, resuming from the checkpoints kept in `target`."""
    return Migration(source, target, name=name, batch=batch, progress=progress).run()
