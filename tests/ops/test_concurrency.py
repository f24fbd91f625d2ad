"""The OpsDB's atomic updates under real concurrency, from several processes at once, on SQLite and PostgreSQL:
twenty failed logins from four processes are all counted and exactly one of them locks the username; four
deliverers claiming one outbox never get the same message."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import BACKENDS
from yuqing.records import OutboxMessage

PROCESSES, PER_PROCESS = 4, 5
PASSWORD = "correct-horse-battery"


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.db'}"
    return request.getfixturevalue("pg_url").replace("postgresql://", "postgresql+psycopg://")


def _failed_logins(url: str, start_at: float) -> list[str]:
    """One process: PER_PROCESS wrong passwords for alice at once (a thread each), from `start_at`."""
    import threading
    from datetime import UTC, datetime

    from dashboard import throttle
    from yuqing.ops.sql import SqlOps

    ops = SqlOps(url)
    messages: list[str] = []
    time.sleep(max(0.0, start_at - time.time()))

    def one() -> None:
        messages.append(throttle.attempt(ops, "alice", "wrong-password", datetime.now(UTC)).message)

    threads = [threading.Thread(target=one) for _ in range(PER_PROCESS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ops.close()
    return messages


@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_concurrent_failed_logins_from_four_processes_are_all_counted(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from datetime import UTC, datetime

    from dashboard import throttle, users
    from yuqing.ops.sql import SqlOps

    url = _url(backend, tmp_path, request)
    ops = SqlOps(url)
    users.add_user(ops, "alice", PASSWORD, "responder")
    start_at = time.time() + 3.0  # every process is up and connected before the first attempt
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.starmap(_failed_logins, [(url, start_at)] * PROCESSES)
    messages = [m for per in results for m in per]
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


def _claim_all(url: str, owner: str, start_at: float) -> list[int]:
    from datetime import UTC, datetime, timedelta

    from yuqing.ops.sql import SqlOps

    ops = SqlOps(url)
    got: list[int] = []
    time.sleep(max(0.0, start_at - time.time()))
    while True:
        batch = ops.claim_messages(datetime.now(UTC), owner, limit=7, lease=timedelta(minutes=10))
        if not batch:
            break
        got += [m.message_id for m in batch]  # type: ignore[misc]
    ops.close()
    return got


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_deliverers_never_claim_the_same_message(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    from yuqing.ops.sql import SqlOps

    url = _url(backend, tmp_path, request)
    ops = SqlOps(url)
    ids = {ops.enqueue(OutboxMessage(to=(f"s{i}@example.cn",), subject=f"预警 {i}", text="t")) for i in range(300)}
    start_at = time.time() + 3.0
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        claimed: list[Any] = pool.starmap(_claim_all, [(url, f"host-{n}:{n}", start_at) for n in range(4)])
    every = [mid for per in claimed for mid in per]
    assert sorted(every) == sorted(ids)  # each message claimed exactly once
    assert sum(1 for per in claimed if per) >= 2  # the claims really were spread over several processes
    owners = {m.message_id: m.owner for m in ops.list_outbox(limit=1000)}
    for n, per in enumerate(claimed):
        assert all(owners[mid] == f"host-{n}:{n}" for mid in per)
    ops.close()
