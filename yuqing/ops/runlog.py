"""Crawl runs the OpsDB could not take (down, locked, read-only, corrupt): kept in a local JSONL file beside the
spool so a failure is never lost, shown by `yuqing sources` and the dashboard, and written to the OpsDB by the
next process that can write there (the next crawl of any source, `yuqing store spool-flush`).

One line per run, appended under an exclusive lock and fsynced; a flush writes every pending run, then empties
the file under the same lock, so two processes never write the same run twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from yuqing.errors import StoreError
from yuqing.recjson import from_json, to_json
from yuqing.records import CrawlRun, SourceHealth, health_from_runs

log = logging.getLogger(__name__)
FILE = "crawl_runs.pending.jsonl"


def path_for(spool_dir: str | os.PathLike[str]) -> Path:
    return Path(spool_dir) / FILE


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append(spool_dir: str | os.PathLike[str], run: CrawlRun) -> Path:
    """Keep one run locally until the store takes it."""
    path = path_for(spool_dir)
    with _locked(path), open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(to_json(run), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return path


def pending(spool_dir: str | os.PathLike[str]) -> list[CrawlRun]:
    """The runs waiting for the store, oldest first (unreadable lines are logged and skipped)."""
    path = path_for(spool_dir)
    if not path.exists():
        return []
    runs: list[CrawlRun] = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            runs.append(from_json(CrawlRun, json.loads(line)))
        except (ValueError, TypeError, KeyError) as exc:
            log.error("%s line %d is not a crawl run (%s); left out", path, n, exc)
    return runs


def flush(store: Any, spool_dir: str | os.PathLike[str]) -> int:
    """Write the pending runs to the store and forget them; returns how many. StoreError leaves them pending."""
    path = path_for(spool_dir)
    if not path.exists():
        return 0
    with _locked(path):
        runs = pending(spool_dir)
        for run in runs:
            store.record_crawl_run(run)  # a StoreError here keeps the file; re-recording on retry adds no loss
        path.write_text("", encoding="utf-8")
    if runs:
        log.info("wrote %d crawl run(s) kept while the store was unavailable", len(runs))
    return len(runs)


def record(store: Any, spool_dir: str | os.PathLike[str], run: CrawlRun) -> str:
    """Record a run in the store, or keep it locally when the store cannot take it; returns where it went."""
    if store is not None:
        try:
            store.record_crawl_run(run)
            return "store"
        except StoreError as exc:
            log.error("store unavailable, keeping the %s crawl run locally in %s: %s", run.source,
                      path_for(spool_dir), exc)
    append(spool_dir, run)
    return "runlog"


def merged_health(stored: Sequence[SourceHealth], waiting: Sequence[CrawlRun]) -> list[SourceHealth]:
    """Source health with the runs still waiting for the store counted: a source whose latest run is a waiting
    failure shows as down, with its reason."""
    if not waiting:
        return list(stored)
    by_source = {h.source: h for h in stored}
    for source in sorted({r.source for r in waiting}):
        extra = health_from_runs(source, sorted((r for r in waiting if r.source == source), key=lambda r: r.started_at))
        base = by_source.get(source)
        if base is None:
            by_source[source] = extra
            continue
        newer = base.last_run_at is None or (extra.last_run_at is not None and extra.last_run_at >= base.last_run_at)
        latest = extra if newer else base
        by_source[source] = SourceHealth(
            source=source, last_run_at=latest.last_run_at, last_success_at=base.last_success_at,
            last_post_at=base.last_post_at, healthy=latest.healthy, reason=latest.reason,
            runs=base.runs + extra.runs, pages=base.pages + extra.pages,
            posts_found=base.posts_found + extra.posts_found, posts_new=base.posts_new + extra.posts_new,
            rejected=base.rejected + extra.rejected,
            errors={k: base.errors.get(k, 0) + extra.errors.get(k, 0) for k in {*base.errors, *extra.errors}})
    return [by_source[s] for s in sorted(by_source)]
