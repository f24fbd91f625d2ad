"""Copy the post index from one backend to another (SQLite <-> Elasticsearch), resumably.

Posts are copied in key order with a checkpoint (the last key) kept in the OpsDB after every batch; events
and human corrections are written again by id (writing them twice changes nothing). Running it again
continues where it stopped and copies only what is new. The operational records never move with the posts:
they live in the OpsDB (see yuqing.storage.es_ops for those an older Elasticsearch deployment still holds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from yuqing.index import PostIndex, PostQuery
from yuqing.ops import OpsDB
from yuqing.records import now_utc

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


class IndexCopy:
    """One copy from `source` to `target`; `name` keys the checkpoints (one per source) in `ops`."""

    def __init__(self, source: PostIndex, target: PostIndex, ops: OpsDB, *, name: str, batch: int = 1000,
                 progress: Progress = _noop) -> None:
        self.source, self.target, self.ops, self.name = source, target, ops, name
        self.batch, self.progress = batch, progress
        self.report = MigrationReport()

    def key(self, kind: str) -> str:
        return f"migrate:{self.name}:{kind}"

    def run(self) -> MigrationReport:
        self.posts()
        self.by_id("corrections", lambda: self.source.list_corrections(), lambda rows: [
            self.target.correct_label(r["platform"], r["post_id"], r["label"], by=r.get("by") or "migrate")
            for r in rows])
        self.by_id("events", lambda: self.source.list_events(limit=ALL, order="size_desc"),
                   lambda rows: self.target.upsert_events(rows))
        return self.report

    def posts(self) -> None:
        after = self.ops.get_checkpoint(self.key("posts")) or ""
        total = self.source.count_posts(PostQuery())
        done = self.target.count_posts(PostQuery()) if after else 0
        copied = 0
        self.progress("posts", min(done, total), total)
        for batch in self.source.iter_posts(after=after, batch=self.batch):
            result = self.target.upsert_posts([(sp.post, sp.analysis) for sp in batch])
            if result.failed:
                raise RuntimeError(f"target refused {result.failed} posts: {'; '.join(result.errors[:3])}")
            self.ops.set_checkpoint(self.key("posts"), batch[-1].post.key, now_utc())
            copied += len(batch)
            done += result.inserted
            self.progress("posts", min(done, total), total)
        self.report.copied["posts"] = copied

    def by_id(self, kind: str, read: Callable[[], list[Any]], write: Callable[[list[Any]], Any]) -> None:
        """Records with their own identity: writing them again overwrites, so no checkpoint is needed."""
        rows = read()
        for i in range(0, len(rows), self.batch):
            write(rows[i:i + self.batch])
            self.progress(kind, min(i + self.batch, len(rows)), len(rows))
        self.report.copied[kind] = len(rows)


def copy_index(source: PostIndex, target: PostIndex, ops: OpsDB, *, name: str, batch: int = 1000,
               progress: Progress = _noop) -> MigrationReport:
    """Copy every post, correction and event from `source` into `target`, resuming from the checkpoints in `ops`."""
    return IndexCopy(source, target, ops, name=name, batch=batch, progress=progress).run()
