"""Dashboard users: bcrypt-hashed passwords, roles viewer < responder < admin."""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import datetime

import bcrypt

from yuqing.ops import OpsDB
from yuqing.records import User, now_utc
from yuqing.vocab import ROLES

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8
RANK = {role: i for i, role in enumerate(ROLES)}


class UserError(ValueError):
    """A user cannot be created as asked (bad name, role or password)."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """True when `password` matches; a malformed hash never matches."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def generate_password() -> str:
    """A random password that is easy to copy: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def add_user(ops: OpsDB, username: str, password: str, role: str, display_name: str = "",
             now: datetime | None = None) -> User:
    """Create or replace a user with a bcrypt hash of `password`. Replacing ends the user's sessions."""
    if not USERNAME_RE.match(username):
        raise UserError(f"用户名不合法 invalid username {username!r}: 2-64 letters, digits, _ . @ -")
    if role not in ROLES:
        raise UserError(f"未知角色 unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码太短 password too short: at least {MIN_PASSWORD} characters")
    if len(password.encode("utf-8")) > 72:
        raise UserError("密码太长 password too long: bcrypt uses at most 72 bytes")
    now = now or now_utc()
    existing = ops.get_user(username)
    user = User(username=username, password_hash=hash_password(password), role=role, display_name=display_name,
                sessions_after=now if existing is not None else None)
    ops.save_user(user)
    if existing is not None:
        ops.end_sessions(username, now)  # a password reset ends every session of the user, in one statement
    return user


def set_disabled(ops: OpsDB, username: str, disabled: bool, now: datetime | None = None) -> User:
    """Disable (cannot log in; every session ends at once) or enable a user; UserError when there is none."""
    now = now or now_utc()
    user = ops.get_user(username)
    if user is None:
        raise UserError(f"没有这个用户 no user {username!r}")
    changed = dataclasses.replace(user, disabled=disabled, sessions_after=now if disabled else user.sessions_after)
    ops.save_user(changed)
    if disabled:
        ops.end_sessions(username, now)
    return changed


def remove_user(ops: OpsDB, username: str) -> None:
    """Delete a user and its sessions."""
    if not ops.delete_user(username):
        raise UserError(f"没有这个用户 no user {username!r}")


def authenticate(ops: OpsDB, username: str, password: str) -> User | None:
    """The user when the password is right, else None (same answer for unknown users)."""
    user = ops.get_user(username.strip())
    if user is None:
        bcrypt.checkpw(b"x", b"$2b$12$C6UzMDM.H6dfI/f/IKcEeO2lmc7dF2v1d0kBv2Ur5wB1lqs1VYWfa")  # equal timing
        return None
    return user if verify_password(password, user.password_hash) else None


def can(role: str, needed: str) -> bool:
    """Whether `role` has at least the rights of `needed`."""
    return RANK.get(role, -1) >= RANK[needed]
