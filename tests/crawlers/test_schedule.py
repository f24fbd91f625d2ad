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
