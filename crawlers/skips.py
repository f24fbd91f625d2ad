"""Scheduled runs skipped because the job's previous run was still going (APScheduler's max_instances=1).

On a busy machine a crawl or the alert job can take longer than its interval; APScheduler then skips that run and
logs a WARNING each time ('Execution of job "…" skipped: maximum number of running instances reached'), which
fills the demo's log with noise about something normal. A filter on the `apscheduler.scheduler` logger counts
every skip per job and lets through only the 1st, 10th, 100th … of each job, rewritten as one INFO line with the
count; the counts go into the run's summary (the demo's totals, the line `yuqing run` logs when it stops). Any
other record of that logger passes unchanged."""

from __future__ import annotations

import logging
import threading

LOGGER = "apscheduler.scheduler"
SKIP_MESSAGE = 'Execution of job "%s" skipped: maximum number of running instances reached'


def _shown(n: int) -> bool:
    """1, 10, 100, …: the counts worth a line of their own."""
    while n % 10 == 0:
        n //= 10
    return n == 1


class SkippedRuns(logging.Filter):
    """Counts APScheduler's skipped runs per job id and turns its WARNING into an occasional INFO with the count."""

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not (isinstance(record.msg, str) and record.msg.startswith(SKIP_MESSAGE)):
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        name = str(getattr(job, "id", None) or job)
        with self._lock:
            n = self._counts[name] = self._counts.get(name, 0) + 1
        if not _shown(n):
            return False
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        record.msg = ("job %s was still running when it was due again, so that run was skipped "
                      "(%d skipped so far; counted in the run's summary, shown again at 10, 100 …)")
        record.args = (name, n)
        return True

    def counts(self) -> dict[str, int]:
        """Skipped runs per job id since this filter was installed (or reset)."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def install(logger: str = LOGGER) -> SkippedRuns:
    """The one SkippedRuns filter on that logger, added the first time (calling again returns the same one)."""
    target = logging.getLogger(logger)
    found = next((f for f in target.filters if isinstance(f, SkippedRuns)), None)
    if found is None:
        found = SkippedRuns()
        target.addFilter(found)
    return found


def summary_line(skips: SkippedRuns) -> str:
    """"scheduled runs skipped (the previous run still going): alerts 3, crawl:weibo 1", or "" when none were."""
    counts = skips.counts()
    if not counts:
        return ""
    return "scheduled runs skipped (the previous run still going): " + ", ".join(f"{k} {v}" for k, v in counts.items())
