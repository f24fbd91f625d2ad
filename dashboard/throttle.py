"""Failed-login throttling: too many wrong passwords for one username lock it for a while.

State lives in the store's key/value state under `login_fail:<sha256 of the lowercased username>` as JSON
{count, first_at, locked_until}, so the limit holds across browser sessions, reloads and dashboard processes.
Unknown usernames are counted exactly like known ones: the messages never tell whether a user exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yuqing.post import User, utc
from yuqing.store.base import AuditEntry, Store
from yuqing.timefmt import local_str

from . import users

MAX_FAILURES = 5  # consecutive failures within WINDOW_MINUTES that lock a username
WINDOW_MINUTES = 15
LOCK_MINUTES = 15
PREFIX = "login_fail:"
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


def state_key(username: str) -> str:
    return PREFIX + hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()


def _shown(username: str) -> str:
    """The username as typed, shortened for logs and audit targets."""
    name = username.strip()
    return name if len(name) <= 64 else name[:64] + "…"


def status(store: Store, username: str, now: datetime, limits: Limits = Limits()) -> Status:
    """The counted failures of `username`; an expired lock or a window that has passed counts as none."""
    raw = store.get_state(state_key(username))
    if not raw:
        return Status()
    try:
        entry = json.loads(raw)
        count = int(entry["count"])
        first_at = utc(datetime.fromisoformat(entry["first_at"]))
        locked_until = utc(datetime.fromisoformat(entry["locked_until"])) if entry.get("locked_until") else None
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("login throttle: unreadable state for %r (%s); starting over", _shown(username), exc)
        return Status()
    now = utc(now)
    if locked_until is not None:
        return Status(count, first_at, locked_until) if now < locked_until else Status()
    return Status(count, first_at) if now - first_at < limits.window else Status()


def _save(store: Store, username: str, st: Status) -> None:
    entry = {"count": st.count, "first_at": st.first_at.isoformat() if st.first_at else None,
             "locked_until": st.locked_until.isoformat() if st.locked_until else None}
    store.set_state(state_key(username), json.dumps(entry))


def record_failure(store: Store, username: str, now: datetime, limits: Limits = Limits()) -> Status:
    """Count one failed login; the failure that reaches the limit locks the username, audited and logged."""
    now = utc(now)
    current = status(store, username, now, limits)
    if current.locked(now):
        return current
    count = current.count + 1
    first_at = current.first_at or now
    if count < limits.max_failures:
        new = Status(count, first_at)
        _save(store, username, new)
        return new
    new = Status(count, first_at, now + limits.lock)
    _save(store, username, new)
    minutes = _minutes(limits.lock)
    store.add_audit(AuditEntry(at=now, actor="system", action="login_lock", target=f"user:{_shown(username)}",
                               detail=f"连续 {count} 次登录失败，锁定 {minutes} 分钟至 {local_str(new.locked_until, SHOWN)}"))
    log.warning("login: username %r locked until %s after %d failed attempts since %s",
                _shown(username), new.locked_until.isoformat(), count, first_at.isoformat())
    return new


def record_success(store: Store, username: str) -> None:
    """A successful login forgets the failures counted so far."""
    if store.get_state(state_key(username)):
        store.set_state(state_key(username), "")


def unlock(store: Store, username: str, actor: str, now: datetime, limits: Limits = Limits()) -> Status:
    """Lift a lock (and forget counted failures) by hand; audited. Returns the status before."""
    before = status(store, username, now, limits)
    store.set_state(state_key(username), "")
    what = f"解除锁定（原锁定至 {local_str(before.locked_until, SHOWN)}）" if before.locked(now) else f"清除 {before.count} 次失败计数"
    store.add_audit(AuditEntry(at=utc(now), actor=actor, action="login_unlock", target=f"user:{_shown(username)}",
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


def attempt(store: Store, username: str, password: str, now: datetime, limits: Limits = Limits()) -> Attempt:
    """One login: refused without a password check while locked; a failure is counted, a success resets."""
    now = utc(now)
    current = status(store, username, now, limits)
    if current.locked(now):
        return Attempt(None, locked_message(current, now))
    user = users.authenticate(store, username, password)
    if user is not None and user.disabled:  # told only to someone who knows the password
        return Attempt(None, "该账号已停用，请联系管理员")
    if user is not None:
        record_success(store, username)
        return Attempt(user)
    after = record_failure(store, username, now, limits)
    if after.locked(now):
        return Attempt(None, locked_message(after, now), locked_now=True)
    return Attempt(None, failed_message(after, limits))
