"""A local spool for analyzed posts while the post index is unreachable; replayed in order when it is back.

Each failed batch becomes one JSONL segment, written to a temporary file, fsynced and renamed, so a segment
is either complete or absent. Segment names sort by creation time. After a segment is replayed its name is
appended (fsynced) to `replayed.log` before the file is deleted, so a crash never replays it twice.
Replays are idempotent upserts, so even a replay interrupted mid-segment duplicates nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index.protocol import WriteResult
from yuqing.recjson import from_json, to_json
from yuqing.records import Analysis, Post

log = logging.getLogger(__name__)

REPLAYED = "replayed.log"
REFUSED = "refused.log"  # one line per refused replay: "<segment> <error>"
MAX_REFUSALS = 3  # a segment the store refuses (not: cannot be reached) this often is set aside
_counter = itertools.count()


@dataclass(frozen=True)
class FlushResult:
    segments: int = 0
    items: int = 0
    inserted: int = 0
    updated: int = 0
    failed: int = 0
    pending_segments: int = 0  # left because the store failed again
    quarantined: int = 0  # segments set aside as failed-*.jsonl (refused again and again, or unreadable)
    error: str = ""


@dataclass(frozen=True)
class SpoolStatus:
    directory: str
    segments: int
    items: int
    bytes: int
    oldest: str
    failed_segments: int = 0  # failed-*.jsonl, kept for inspection, never replayed automatically


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode_item(post: Post, analysis: Analysis | None) -> str:
    return json.dumps({"post": to_json(post), "analysis": to_json(analysis) if analysis else None},
                      ensure_ascii=False)


def decode_item(line: str) -> tuple[Post, Analysis | None]:
    data = json.loads(line)
    return from_json(Post, data["post"]), (from_json(Analysis, data["analysis"]) if data["analysis"] else None)


class Spool:
    """The segment files of one spool directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)

    def append(self, items: Sequence[tuple[Post, Analysis | None]]) -> Path:
        """Write one complete, fsynced segment; returns its path."""
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"seg-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"
        tmp = self.dir / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            for post, analysis in items:
                fh.write(encode_item(post, analysis) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        final = self.dir / name
        os.replace(tmp, final)
        _fsync_dir(self.dir)
        return final

    def _replayed(self) -> set[str]:
        path = self.dir / REPLAYED
        if not path.exists():
            return set()
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    def segments(self) -> list[Path]:
        """Pending segments, oldest first (already-replayed ones are removed on sight)."""
        if not self.dir.exists():
            return []
        done = self._replayed()
        out = []
        for path in sorted(self.dir.glob("seg-*.jsonl")):
            if path.name in done:
                path.unlink(missing_ok=True)  # replayed, crash before deletion
            else:
                out.append(path)
        return out

    def read(self, path: Path) -> list[tuple[Post, Analysis | None]]:
        return [decode_item(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def mark_replayed(self, path: Path) -> None:
        with open(self.dir / REPLAYED, "a", encoding="utf-8") as fh:
            fh.write(path.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        path.unlink(missing_ok=True)

    def refusals(self, path: Path, error: str) -> int:
        """Record one refused replay of `path`; returns how many times it has been refused."""
        log_path = self.dir / REFUSED
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(f"{path.name} {error.splitlines()[0] if error else ''}\n")
        return sum(1 for line in log_path.read_text(encoding="utf-8").splitlines() if line.split(" ", 1)[0] == path.name)

    def quarantine(self, path: Path, reason: str) -> Path:
        """Set a segment aside (renamed failed-…); it stays on disk and in `status()`."""
        target = path.with_name("failed-" + path.name)
        os.replace(path, target)
        log.error("spool segment %s set aside as %s: %s", path.name, target.name, reason)
        return target

    def compact(self) -> None:
        """Forget replayed and refused names once no segment is pending."""
        if not any(self.dir.glob("seg-*.jsonl")):
            for name in (REPLAYED, REFUSED):
                (self.dir / name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One replayer at a time across processes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def status(self) -> SpoolStatus:
        segs = self.segments()
        items = sum(sum(1 for line in p.open(encoding="utf-8") if line.strip()) for p in segs)
        failed = len(list(self.dir.glob("failed-seg-*.jsonl"))) if self.dir.exists() else 0
        return SpoolStatus(directory=str(self.dir), segments=len(segs), items=items,
                           bytes=sum(p.stat().st_size for p in segs), oldest=segs[0].name if segs else "",
                           failed_segments=failed)


class SpoolingWriter:
    """Writes analyzed posts to the post index, or to the spool while it fails; `flush()` replays."""

    def __init__(self, index: Any, spool_dir: str | os.PathLike[str]) -> None:
        self.store = index
        self.spool = Spool(spool_dir)
        self.spooled = 0  # items spooled by this writer
        self.last_error = ""

    def write(self, items: Sequence[tuple[Post, Analysis | None]]) -> WriteResult:
        """Store `items` after any spooled ones (order is kept); on StoreError spool them.

        The result counts everything this call wrote to the store: replayed posts and `items`;
        spooled posts are counted once, when they are replayed. `self.spooled` counts what was spooled.
        """
        items = list(items)
        if not items:
            return WriteResult()
        replayed = FlushResult()
        if self.spool.segments():
            replayed = self.flush()
            if replayed.pending_segments:
                self._spool(items, replayed.error)
                return WriteResult()
        try:
            result = self.store.upsert_posts(items)
        except StoreError as exc:
            self._spool(items, str(exc))
            result = WriteResult()
        return WriteResult(inserted=result.inserted + replayed.inserted, updated=result.updated + replayed.updated,
                           failed=result.failed + replayed.failed, errors=result.errors)

    def _spool(self, items: list[tuple[Post, Analysis | None]], error: str) -> None:
        path = self.spool.append(items)
        self.spooled += len(items)
        self.last_error = error
        log.warning("store unavailable (%s): spooled %d posts to %s", error, len(items), path)

    def flush(self) -> FlushResult:
        """Replay pending segments in order; stops at the first one the store cannot take.

        A segment the store refuses (StoreError other than StoreUnavailable) MAX_REFUSALS times, or one that
        cannot be read, is set aside as failed-*.jsonl so it does not hold back the others.
        """
        totals = {"segments": 0, "items": 0, "inserted": 0, "updated": 0, "failed": 0, "quarantined": 0}
        with self.spool.locked():
            segments = self.spool.segments()
            for i, path in enumerate(segments):
                try:
                    items = self.spool.read(path)
                except (ValueError, KeyError, TypeError) as exc:
                    self.spool.quarantine(path, f"unreadable: {exc}")
                    totals["quarantined"] += 1
                    continue
                try:
                    result = self.store.upsert_posts(items) if items else WriteResult()
                except StoreError as exc:
                    self.last_error = str(exc)
                    if not isinstance(exc, StoreUnavailable) and self.spool.refusals(path, str(exc)) >= MAX_REFUSALS:
                        self.spool.quarantine(path, f"refused {MAX_REFUSALS} times: {exc}")
                        totals["quarantined"] += 1
                        continue
                    log.warning("spool replay stopped at %s: %s", path.name, exc)
                    return FlushResult(**totals, pending_segments=len(segments) - i, error=str(exc))
                if result.failed:
                    log.error("spool replay of %s: the store refused %d posts: %s", path.name, result.failed,
                              "; ".join(result.errors))
                self.spool.mark_replayed(path)
                totals["segments"] += 1
                totals["items"] += len(items)
                totals["inserted"] += result.inserted
                totals["updated"] += result.updated
                totals["failed"] += result.failed
            self.spool.compact()
        if totals["segments"]:
            log.info("spool replayed %d segments, %d posts", totals["segments"], totals["items"])
        return FlushResult(**totals)

    def pending(self) -> SpoolStatus:
        return self.spool.status()
