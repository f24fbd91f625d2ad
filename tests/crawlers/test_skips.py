"""Runs skipped because the previous run was still going: counted per job, no WARNING each time, an INFO line at
the 1st, 10th, 100th … skip of a job, and the counts in the run's summary. With a real APScheduler too."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import pytest

from crawlers.schedule import stop_scheduler
from crawlers.skips import LOGGER, SKIP_MESSAGE, SkippedRuns, install, summary_line


class Job:
    def __init__(self, job_id: str) -> None:
        self.id = job_id

    def __str__(self) -> str:
        return f"{self.id} (trigger: interval[0:00:30], next run at: 2026-11-24 02:00:30 UTC)"


@pytest.fixture
def logger() -> logging.Logger:
    log = logging.getLogger("tests.skips")
    log.filters.clear()
    log.setLevel(logging.DEBUG)
    return log


def skip(log: logging.Logger, job_id: str) -> None:
    log.warning(SKIP_MESSAGE + " (%d)", Job(job_id), 1)  # as APScheduler 3.x words it


def test_skips_are_counted_and_shown_at_info_now_and_then(logger, caplog) -> None:
    counter = install(logger.name)
    assert install(logger.name) is counter  # installed once
    caplog.set_level(logging.DEBUG, logger=logger.name)
    for _ in range(12):
        skip(logger, "alerts")
    skip(logger, "crawl:weibo")
    logger.warning("Run time of job %s was missed by %s", "x", "0:01:00")  # any other record passes as it is
    records = [r for r in caplog.records if r.name == logger.name]
    shown = [(r.levelname, r.getMessage()) for r in records]
    assert [lvl for lvl, _ in shown] == ["INFO", "INFO", "INFO", "WARNING"]
    assert shown[0][1].startswith("job alerts was still running when it was due again") and "(1 skipped so far" in shown[0][1]
    assert "(10 skipped so far" in shown[1][1] and shown[2][1].startswith("job crawl:weibo") and "was missed" in shown[3][1]
    assert counter.counts() == {"alerts": 12, "crawl:weibo": 1} and counter.total() == 13
    assert summary_line(counter) == "scheduled runs skipped (the previous run still going): alerts 12, crawl:weibo 1"
    counter.reset()
    assert summary_line(counter) == "" and counter.total() == 0


def test_a_job_outlasting_its_interval_in_a_real_scheduler_is_counted_not_warned(caplog) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    counter = install()
    assert isinstance(counter, SkippedRuns)
    job = f"outlasting-{time.monotonic_ns()}"  # the filter is process-wide: another test's "slow" was counted already
    before = counter.counts().get(job, 0)
    assert before == 0
    caplog.set_level(logging.INFO, logger=LOGGER)
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(30)

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(slow, "interval", hours=1, id=job, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC))
    scheduler.start()
    try:
        assert started.wait(30)
        deadline = time.monotonic() + 30  # a bound on waiting, not a measured time
        while counter.counts().get(job, 0) < 2 and time.monotonic() < deadline:
            scheduler.modify_job(job, next_run_time=datetime.now(UTC))  # due again while it still runs
            scheduler.wakeup()
            time.sleep(0.05)
    finally:
        release.set()
        stop_scheduler(scheduler)
    assert counter.counts()[job] >= 2
    apscheduler = [r for r in caplog.records if r.name == LOGGER]
    assert not [r for r in apscheduler if r.levelno >= logging.WARNING and "skipped" in r.getMessage()]
    assert any(r.levelno == logging.INFO and r.getMessage().startswith(f"job {job} was still running")
               for r in apscheduler)
