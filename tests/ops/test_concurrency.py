"""The OpsDB's atomic updates under real concurrency, from several processes at once, on SQLite and PostgreSQL:
twenty failed logins from four processes are all counted and exactly one of them locks the username; four
deliverers claiming one outbox never get the same message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import BACKENDS
from yuqing.records import OutboxMessage

PROCESSES, PER_PROCESS = 4, 5
PASSWORD = "correct-horse-battery"
ROOT = Path(__file__).resolve().parents[2]


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.db'}"
    return request.getfixturevalue("pg_url").replace("postgresql://", "postgresql+psycopg://")


def run_workers(mode: str, url: str, args: list[str], lead: float = 4.0) -> list[dict[str, Any]]:
    """One `python -m tests.ops.worker` process per element of `args`, all starting their work `lead` seconds from
    now (every process is up and connected by then); their JSON results."""
    import json
    import os
    import subprocess
    import sys

    start_at = str(time.time() + lead)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.ops.worker", mode, url, start_at, *([a] if a else [])],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a in args]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr[-3000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_concurrent_failed_logins_from_four_processes_are_all_counted(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from datetime import UTC, datetime

    from dashboard import throttle, users
    from yuqing.ops.sql import SqlOps

    url = _url(backend, tmp_path, request)
    ops = SqlOps(url)
    users.add_user(ops, "alice", PASSWORD, "responder")
    results = run_workers("logins", url, [str(PER_PROCESS)] * PROCESSES)
    messages = [m for per in results for m in per["messages"]]
    stored = ops.login_failures(throttle.user_key("alice"))
    locks = [e for e in ops.list_audit(target="user:alice") if e.action == "login_lock"]
    now = datetime.now(UTC)
    assert len(messages) == PROCESSES * PER_PROCESS == 20
    assert stored.count == 20, stored  # no failure lost to a read-then-write race
    assert len(locks) == 1 and "连续 5 次登录失败" in locks[0].detail  # the fifth failure locked, once
    assert stored.locked(now)
    refused = throttle.attempt(ops, "alice", PASSWORD, now)  # the lock applies: the right password is refused
    assert refused.user is None and "已锁定" in refused.message
    print(f"\n[{backend}] 20 concurrent failed logins from 4 processes: counted {stored.count}, "
          f"lock audit entries {len(locks)}, locked until {stored.locked_until:%H:%M:%S}")
    ops.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_deliverers_never_claim_the_same_message(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    from yuqing.ops.sql import SqlOps

    url = _url(backend, tmp_path, request)
    ops = SqlOps(url)
    ids = {ops.enqueue(OutboxMessage(to=(f"s{i}@example.cn",), subject=f"预警 {i}", text="t")) for i in range(300)}
    claimed = [r["claimed"] for r in run_workers("claims", url, [f"host-{n}:{n}" for n in range(4)])]
    every = [mid for per in claimed for mid in per]
    assert sorted(every) == sorted(ids)  # each message claimed exactly once
    assert sum(1 for per in claimed if per) >= 2  # the claims really were spread over several processes
    owners = {m.message_id: m.owner for m in ops.list_outbox(limit=1000)}
    for n, per in enumerate(claimed):
        assert all(owners[mid] == f"host-{n}:{n}" for mid in per)
    ops.close()
