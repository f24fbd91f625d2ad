"""Failed-login throttling: too many wrong passwords for one username lock it for a while.

The count lives in the OpsDB's `login_failures` table under the sha256 of the lower-cased username, so the
limit holds across browser sessions, reloads, dashboard processes and hosts. Each failure is one atomic
statement (OpsDB.add_login_failure): concurrent failures are all counted and exactly one of them locks.
Unknown usernames are counted exactly like known ones: the messages never tell whether a user exists.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yuqing.ops import OpsDB
from yuqing.records import AuditEntry, LoginFailures, User, utc
from yuqing.timefmt import local_str

from . import users

MAX_FAILURES = 5  # consecutive failures within WINDOW_MINUTES that lock a username
WINDOW_MINUTES = 15
LOCK_MINUTES = 15
SHOWN = "%Y-%m-%d %H:%M:%S"  # Beijing time in audit details and CLI output

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_failures: int = MAX_FAILURES
    window: timedelta = timedelta(minutes=WINDOW_MINUTES)
    lock: timedelta = timedelta(minutes=LOCK_MINUTES)

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """[dashboard] login_max_failures and login_lock_minutes (the window and the lock are equally long)."""
        minutes = timedelta(minutes=settings.dashboard.login_lock_minutes)
        return cls(max_failures=settings.dashboard.login_max_failures, window=minutes, lock=minutes)


@dataclass(frozen=True)
class Status:
    """Where one username stands: failures counted so far and, when locked, until when."""

    count: int = 0
    first_at: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and utc(now) < self.locked_until


@dataclass(frozen=True)
class Attempt:
    """The outcome of one login attempt: the user on success, else the message to show."""

    user: User | None
    message: str = ""
    locked_now: bool = False  # this attempt locked the username (an audit entry was written)


def user_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()


def _shown(username: str) -> str:
    """The username as typed, shortened for logs and audit targets."""
    name = username.strip()
    return name if len(name) <= 64 else name[:64] + "…"


def _status(stored: LoginFailures, now: datetime, limits: Limits) -> Status:
    """Stored failures as they stand now: an expired lock or a window that has passed counts as none."""
    if stored.first_at is None:
        return Status()
    if stored.locked_until is not None:
        return Status(stored.count, stored.first_at, stored.locked_until) if now < stored.locked_until else Status()
    return Status(stored.count, stored.first_at) if now - stored.first_at < limits.window else Status()


def status(ops: OpsDB, username: str, now: datetime, limits: Limits = Limits()) -> Status:
    """The counted failures of `username`."""
    return _status(ops.login_failures(user_key(username)), utc(now), limits)


def record_failure(ops: OpsDB, username: str, now: datetime, limits: Limits = Limits()) -> Status:
    """Count one failed login; the failure that reaches the limit locks the username, audited and logged."""
    now = utc(now)
    stored, locked_now = ops.add_login_failure(user_key(username), now, max_failures=limits.max_failures,
                                               window=limits.window, lock=limits.lock)
    new = Status(stored.count, stored.first_at, stored.locked_until)
    if locked_now:
        minutes = _minutes(limits.lock)
        ops.add_audit(AuditEntry(at=now, actor="system", action="login_lock", target=f"user:{_shown(username)}",
                                 detail=f"连续 {new.count} 次登录失败，锁定 {minutes} 分钟至 "
                                        f"{local_str(new.locked_until, SHOWN)}"))
        log.warning("login: username %r locked until %s after %d failed attempts since %s", _shown(username),
                    new.locked_until.isoformat() if new.locked_until else "", new.count,
                    new.first_at.isoformat() if new.first_at else "")
    return new


def record_success(ops: OpsDB, username: str) -> None:
    """A successful login forgets the failures counted so far."""
    ops.clear_login_failures(user_key(username))


def unlock(ops: OpsDB, username: str, actor: str, now: datetime, limits: Limits = Limits()) -> Status:
    """Lift a lock (and forget counted failures) by hand; audited. Returns the status before."""
    before = _status(ops.clear_login_failures(user_key(username)), utc(now), limits)
    what = f"解除锁定（原锁定至 {local_str(before.locked_until, SHOWN)}）" if before.locked(now) else f"清除 {before.count} 次失败计数"
    ops.add_audit(AuditEntry(at=utc(now), actor=actor, action="login_unlock", target=f"user:{_shown(username)}",
                             detail=what))
    log.warning("login: username %r unlocked by %s", _shown(username), actor)
    return before


def _minutes(delta: timedelta) -> int:
    """Whole minutes, rounded up, at least 1."""
    return max(1, math.ceil(delta.total_seconds() / 60))


def locked_message(st: Status, now: datetime) -> str:
    if st.locked_until is None:
        raise ValueError("not locked")
    return f"登录失败次数过多，该账号已锁定，请 {_minutes(st.locked_until - utc(now))} 分钟后再试"


def failed_message(st: Status, limits: Limits = Limits()) -> str:
    return f"用户名或密码错误（还可尝试 {limits.max_failures - st.count} 次）"


def attempt(ops: OpsDB, username: str, password: str, now: datetime, limits: Limits = Limits()) -> Attempt:
    """One login: refused without a password check while locked; a failure is counted, a success resets."""
    now = utc(now)
    current = status(ops, username, now, limits)
    if current.locked(now):
        return Attempt(None, locked_message(current, now))
    user = users.authenticate(ops, username, password)
    if user is not None and user.disabled:  # told only to someone who knows the password
        return Attempt(None, "该账号已停用，请联系管理员")
    if user is not None:
        record_success(ops, username)
        return Attempt(user)
    after = record_failure(ops, username, now, limits)
    if after.locked(now):
        return Attempt(None, locked_message(after, now), locked_now=True)
    return Attempt(None, failed_message(after, limits))
