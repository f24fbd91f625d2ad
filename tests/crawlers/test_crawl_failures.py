"""A crawl that crashes, is killed, or cannot reach its store leaves a failed run with the tail of its error output,
shown by `yuqing sources` (and kept locally until the store takes it); a run left open by a kill is closed by the
next crawl. Real subprocesses, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawlers import failures, schedule
from yuqing.config import load_settings
from yuqing.errors import StoreUnavailable
from yuqing.ops import runlog
from yuqing.records import CrawlRun
from yuqing.wiring import open_ops

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("YUQING_"):
            monkeypatch.delenv(key)
    path = tmp_path / "y.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "yuqing.db"}"\nspool_dir = "{tmp_path / "spool"}"\n'
                    f'[crawl]\njobstore = "{tmp_path / "s.db"}"\nheimao_base_url = "http://127.0.0.1:9"\n', encoding="utf-8")
    open_ops(load_settings(path)).close()
    return path


def _child(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    monkeypatch.setattr(schedule, "runner_command", lambda *a, **k: [sys.executable, "-c", script])


def _sources(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    return subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(config), "sources"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


CRASH = ("import sys; print('starting', flush=True); "
         "sys.stderr.write('Traceback (most recent call last):\\n  File \"spider.py\", line 7\\n'"
         "'KeyError: \\'card_group\\'\\n'); sys.exit(1)")


def test_a_crash_is_a_failed_run_with_its_error_output(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _child(monkeypatch, CRASH)
    result = schedule.run_crawl_job("weibo", config=str(config), timeout=30)
    assert result["returncode"] == 1 and result["recorded"] == "store"
    store = open_ops(load_settings(config))
    try:
        [run] = store.list_crawl_runs(source="weibo")
        [health] = store.source_health()
    finally:
        store.close()
    assert not run.healthy and run.finished_at is not None and run.errors == {"crash": 1}
    assert "抓取进程异常退出（退出码 1）" in run.reason and "KeyError: 'card_group'" in run.reason
    assert not health.healthy and "card_group" in health.reason
    shown = _sources(config)
    assert shown.returncode == 0 and "DOWN weibo" in shown.stdout and "KeyError: 'card_group'" in shown.stdout


def test_a_killed_crawl_finishes_its_own_open_run_as_failed(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = "datetime.now(UTC)"
    script = ("import os, signal; from datetime import UTC, datetime; from yuqing.config import load_settings; "
              "from yuqing.wiring import open_ops; from yuqing.records import CrawlRun; "
              f"s = open_ops(load_settings({str(config)!r})); s.record_crawl_run(CrawlRun('zhihu', {started})); "
              "s.close(); os.kill(os.getpid(), signal.SIGKILL)")
    _child(monkeypatch, script)
    result = schedule.run_crawl_job("zhihu", config=str(config), timeout=30)
    assert result["returncode"] == -9
    store = open_ops(load_settings(config))
    try:
        runs = store.list_crawl_runs(source="zhihu")
    finally:
        store.close()
    assert len(runs) == 1 and runs[0].finished_at is not None and not runs[0].healthy  # the same run, closed
    assert "退出码 -9" in runs[0].reason and runs[0].errors == {"crash": 1}


def test_the_next_crawl_closes_a_run_left_open(config: Path) -> None:
    store = open_ops(load_settings(config))
    try:
        t = datetime.now(UTC) - timedelta(hours=1)
        store.record_crawl_run(CrawlRun("heimao", t, t + timedelta(minutes=1), pages=2, posts_new=3))
        store.record_crawl_run(CrawlRun("heimao", t + timedelta(minutes=10)))  # killed with SIGKILL: never finished
        assert failures.close_abandoned(store, "heimao", datetime.now(UTC)) == 1
        assert failures.close_abandoned(store, "heimao", datetime.now(UTC)) == 0
        runs = store.list_crawl_runs(source="heimao")
        assert all(r.finished_at is not None for r in runs)
        [health] = store.source_health()
        assert not health.healthy and health.reason == failures.ABANDONED and health.errors == {"killed": 1}
    finally:
        store.close()


def test_failures_wait_in_the_run_log_while_the_store_is_unusable(config: Path, monkeypatch) -> None:
    settings = load_settings(config)
    db = Path(settings.store.path)
    good = db.read_bytes()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)  # corrupt
    _child(monkeypatch, "import sys; sys.stderr.write('存储不可用 store unavailable: file is not a database\\n'); "
                        "sys.exit(1)")
    for _ in range(3):
        result = schedule.run_crawl_job("weibo", config=str(config), timeout=30)
        assert result["recorded"] == "runlog"
    waiting = runlog.pending(settings.store.spool_dir)
    assert len(waiting) == 3 and all(not r.healthy and "file is not a database" in r.reason for r in waiting)
    shown = _sources(config)
    assert shown.returncode == 1 and "存储不可用 store unavailable" in shown.stderr and "Traceback" not in shown.stderr
    assert "3 crawl run(s) kept locally" in shown.stderr and "DOWN weibo" in shown.stdout
    with pytest.raises(StoreUnavailable):
        open_ops(settings)
    db.write_bytes(good)  # the store is back
    store = open_ops(settings)
    try:
        assert runlog.flush(store, settings.store.spool_dir) == 3
        assert runlog.pending(settings.store.spool_dir) == []
        assert len(store.list_crawl_runs(source="weibo")) == 3  # each failure once
        assert runlog.flush(store, settings.store.spool_dir) == 0
    finally:
        store.close()


def test_a_read_only_store_gives_a_failed_run_from_a_real_crawl_process(config: Path, monkeypatch) -> None:
    """The database made immutable (root ignores file modes): a real `crawlers.runner` cannot write its run."""
    settings = load_settings(config)
    db = Path(settings.store.path)
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here, so a read-only store cannot be made for root")
    try:
        result = schedule.run_crawl_job("heimao", config=str(config), timeout=120, max_pages=1)
        shown = _sources(config)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert result["returncode"] == 1 and result["recorded"] == "runlog", result
    [run] = runlog.pending(settings.store.spool_dir)
    assert "存储不可用 store unavailable" in run.reason and "Traceback" not in run.reason
    assert "DOWN heimao" in shown.stdout, shown.stdout + shown.stderr
    store = open_ops(settings)
    try:
        assert runlog.flush(store, settings.store.spool_dir) == 1
        assert [r.source for r in store.list_crawl_runs()] == ["heimao"]
    finally:
        store.close()


def test_error_tail_keeps_the_last_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(1000)) + "\n\x1b[31mKeyError: 'x'\x1b[0m\n"
    tail = failures.error_tail(text, 100)
    assert tail.endswith("KeyError: 'x'") and len(tail) <= 100 and "\x1b" not in tail
    assert failures.error_tail("") == "(no error output)"
    assert json.dumps(tail)
