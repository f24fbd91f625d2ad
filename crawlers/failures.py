"""Crawls that end without recording themselves are recorded as failed runs by whoever sees them, so a crash
leaves a trace in `yuqing sources`, on the dashboard and for the source-health alert:

- the scheduler, when a crawl process exits without its summary (a traceback, SIGKILL, the OOM killer, a store it
  could not write) or had to be killed at its timeout: the run is finished as failed with the tail of the
  process's error output;
- the next crawl of the source, for a run a killed process left unfinished.
When the OpsDB itself cannot take the record, it waits in the local run log (yuqing.ops.runlog).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from yuqing.errors import StoreError
from yuqing.ops import runlog
from yuqing.records import CrawlRun

log = logging.getLogger(__name__)
ABANDONED = "上次抓取未正常结束（进程被强制终止或崩溃），没有写入结果"
TAIL_CHARS = 1200
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_tail(stderr: str, limit: int = TAIL_CHARS) -> str:
    """The last lines of a process's error output, at most `limit` characters, without terminal colours."""
    lines = [line.rstrip() for line in _ANSI.sub("", stderr or "").splitlines() if line.strip()]
    out: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > limit:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(reversed(out)) or "(no error output)"


def record_failed_crawl(settings: Any, source: str, started_at: datetime, finished_at: datetime, reason: str,
                        kind: str, store: Any = None) -> str:
    """Finish the source's run that this crawl left open (or add one) as failed; returns where it was recorded
    ("store" or "runlog"). `store` is the caller's OpsDB; without it the process's own is used (yuqing.wiring)."""
    own = None
    if store is None:
        from yuqing.wiring import open_ops

        try:
            store = own = open_ops(settings)
        except StoreError as exc:
            log.error("crawl %s: OpsDB unavailable (%s); keeping the failed run locally", source, exc)
    try:
        open_runs: list[CrawlRun] = []
        if store is not None:
            try:
                open_runs = [r for r in store.list_crawl_runs(source=source, limit=20)
                             if r.finished_at is None and r.started_at >= started_at - timedelta(seconds=5)]
            except StoreError:
                open_runs = []
        if open_runs:
            run = dataclasses.replace(open_runs[0], finished_at=finished_at, healthy=False, reason=reason,
                                      errors={**open_runs[0].errors, kind: open_runs[0].errors.get(kind, 0) + 1})
        else:
            run = CrawlRun(source=source, started_at=started_at, finished_at=finished_at, healthy=False, reason=reason,
                           errors={kind: 1})
        return runlog.record(store, settings.store.spool_dir, run)
    finally:
        if own is not None:
            own.close()


def close_abandoned(store: Any, source: str, now: datetime) -> int:
    """Mark runs of `source` that a killed process left unfinished as failed (call while holding the source's
    lock, so none of them is still running); returns how many."""
    closed = 0
    for run in store.list_crawl_runs(source=source, limit=50):
        if run.finished_at is None and run.started_at < now:
            store.record_crawl_run(dataclasses.replace(
                run, finished_at=run.started_at, healthy=False, reason=ABANDONED,
                errors={**run.errors, "killed": run.errors.get("killed", 0) + 1}))
            closed += 1
    if closed:
        log.warning("crawl %s: %d earlier run(s) had been left unfinished; recorded as failed", source, closed)
    return closed
