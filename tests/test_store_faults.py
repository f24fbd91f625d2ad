"""A corrupt, locked or unreachable store (the SQLite file of the post index and the OpsDB) gives one clear
store-unavailable line and exit 1 in every command that needs it, never a traceback (a real SQLite file; the lock
held by a real second connection)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.config import load_settings
from yuqing.wiring import open_stores

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    ["sources"], ["sources", "--json"], ["alerts", "list"], ["alerts", "run-once"], ["alerts", "subscribers"],
    ["alerts", "subscribe", "duty@example.com"], ["alerts", "ack", "1"], ["run", "--once"], ["store", "status"],
    ["users", "list"], ["users", "add", "ops1", "--role", "admin"], ["users", "disable", "ops1"],
    ["users", "unlock", "ops1"], ["sentiment", "reanalyze", "--dry-run"], ["sentiment", "export-corrections"],
]


def _run(config: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    return subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(config), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "y.toml"
    path.write_text("\n".join([
        "[store]", f'path = "{tmp_path / "yuqing.db"}"', f'spool_dir = "{tmp_path / "spool"}"',
        "busy_timeout_seconds = 0.5", "[crawl]", f'jobstore = "{tmp_path / "s.db"}"', 'sources = ["heimao"]',
        'heimao_base_url = "http://127.0.0.1:9"', "timeout_seconds = 60"]) + "\n", encoding="utf-8")
    return path


def _check(proc: subprocess.CompletedProcess[str], argv: list[str]) -> None:
    assert proc.returncode == 1, (argv, proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "存储不可用 store unavailable" in proc.stderr, (argv, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, (argv, proc.stderr[-3000:])


@pytest.fixture(scope="module")
def corrupt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("corrupt")
    config = _config(tmp)
    (tmp / "yuqing.db").write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    return config


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_corrupt_store_gives_the_store_unavailable_message(corrupt: Path, argv: list[str]) -> None:
    _check(_run(corrupt, argv), argv)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("locked")
    config = _config(tmp)
    open_stores(load_settings(config, env={})).close()
    holder = sqlite3.connect(tmp / "yuqing.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write
    yield config
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.parametrize("argv", [c for c in COMMANDS if c[0] in ("alerts", "users", "run", "sentiment")
                                  and c not in (["alerts", "list"], ["alerts", "subscribers"], ["users", "list"],
                                                ["sentiment", "export-corrections"])], ids=" ".join)
def test_a_locked_store_gives_the_store_unavailable_message_for_writes(locked: Path, argv: list[str]) -> None:
    _check(_run(locked, argv), argv)


def test_the_alert_job_reports_an_unusable_store_instead_of_raising(corrupt: Path, locked: Path) -> None:
    from yuqing.run import alerts_job

    for config in (corrupt, locked):
        result = alerts_job(str(config))
        assert result["fired"] == 0 and result["error"].startswith("store unavailable"), result
