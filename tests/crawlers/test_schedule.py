"""Scheduling: persistent jobs with explicit ids, one run per source at a time, crawls bounded by a timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers import schedule
from crawlers.runner import EXIT_BUSY, SourceBusy, source_lock
from yuqing.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def settings_in(tmp_path: Path) -> Settings:
    return Settings().replace(crawl={"jobstore": str(tmp_path / "var" / "scheduler.db"), "interval_seconds": 30},
                              store={"path": str(tmp_path / "var" / "yuqing.db")})


def test_jobs_persist_with_explicit_ids_and_limits(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    first = schedule.build_scheduler(settings)
    first.start(paused=True)
    ids = schedule.add_crawl_jobs(first, settings, config="/etc/yuqing.toml")
    first.shutdown(wait=False)
    assert ids == ["crawl:weibo", "crawl:zhihu", "crawl:zhidao", "crawl:heimao", "crawl:tieba", "crawl:bilibili"]

    again = schedule.build_scheduler(settings)  # a restarted `yuqing run` finds them in var/scheduler.db
    again.start(paused=True)
    try:
        jobs = {j.id: j for j in again.get_jobs()}
        assert set(jobs) == set(ids)
        job = jobs["crawl:weibo"]
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval.total_seconds() == 30
        assert job.kwargs["source"] == "weibo" and job.kwargs["config"] == "/etc/yuqing.toml"
        schedule.add_crawl_jobs(again, settings)  # adding again replaces, never duplicates
        assert len(again.get_jobs()) == len(ids)
    finally:
        again.shutdown(wait=False)


def test_a_source_is_never_crawled_twice_at_once(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    with source_lock(settings, "weibo"):
        with pytest.raises(SourceBusy, match="already being crawled"):
            with source_lock(settings, "weibo"):
                pass
        with source_lock(settings, "zhihu"):  # other sources are free
            pass
        config = tmp_path / "yuqing.toml"
        config.write_text(f'[crawl]\njobstore = "{settings.crawl.jobstore}"\n'
                          f'[store]\npath = "{settings.store.path}"\n', encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "crawlers.runner", "weibo", "--config", str(config)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == EXIT_BUSY
        assert "already being crawled" in json.loads(proc.stdout.strip().splitlines()[-1])["skipped"]
    with source_lock(settings, "weibo"):  # released
        pass


def test_a_crawl_that_overruns_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "runner_command",
                        lambda *a, **k: [sys.executable, "-c", "import time; print('{}'); time.sleep(60)"])
    result = schedule.run_crawl_job("weibo", timeout=1.0)
    assert result["timeout"] is True and result["returncode"] != 0


def test_run_crawl_job_reads_the_summary_and_passes_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    script = "import json, os; print('log line'); print(json.dumps({'pages': 3, 'cfg': os.environ['YUQING_CONFIG']}))"
    monkeypatch.setattr(schedule, "runner_command", lambda *a, **k: [sys.executable, "-c", script])
    result = schedule.run_crawl_job("zhihu", config="/tmp/x.toml", timeout=30)
    assert result == {"pages": 3, "cfg": "/tmp/x.toml", "source": "zhihu", "returncode": 0}


def test_last_json() -> None:
    assert schedule.last_json('noise\n{"a": 1}\n{broken\n') == {"a": 1}
    assert schedule.last_json("nothing") == {}


def test_runner_command() -> None:
    cmd = schedule.runner_command("heimao", "/c.toml", 2)
    assert cmd[1:] == ["-m", "crawlers.runner", "heimao", "--config", "/c.toml", "--max-pages", "2"]
    assert os.path.basename(cmd[0]).startswith("python")


def test_stopping_while_a_job_runs_submits_nothing_to_a_closed_executor(caplog: pytest.LogCaptureFixture,
                                                                      tmp_path) -> None:
    """The demo stopped after a --keep restart logged `cannot schedule new futures after shutdown`: a job came due
    while shutdown waited for a running one, and APScheduler's last wake-up round submitted it (persistent store)."""
    import logging
    import time
    from datetime import UTC, datetime, timedelta

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    caplog.set_level(logging.INFO, logger="apscheduler")
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{tmp_path}/jobs.db")},
                                    timezone=UTC, job_defaults={"max_instances": 1, "coalesce": True})
    scheduler.add_job("time:sleep", "interval", args=[1.5], seconds=0.5, id="slow", next_run_time=datetime.now(UTC))
    scheduler.add_job("time:time", "interval", seconds=0.3, id="quick",
                      next_run_time=datetime.now(UTC) + timedelta(seconds=0.2))
    scheduler.start()
    time.sleep(0.6)
    schedule.stop_scheduler(scheduler)
    assert not scheduler.running
    assert not [r for r in caplog.records if "Error submitting job" in r.getMessage()]
    schedule.stop_scheduler(scheduler)  # a second stop is harmless
