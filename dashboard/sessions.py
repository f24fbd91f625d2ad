"""Login sessions that survive a page reload: a random token in an HttpOnly cookie, its hash in the OpsDB.

The cookie is set by the server, never by page JavaScript (dashboard/web.py): after a successful login the
Streamlit page gets a one-time *grant* (60 s, single use) and posts it to `/_yuqing/session`, which starts the
session and answers with `Set-Cookie: …; HttpOnly; SameSite=Strict`. Neither token is stored: the OpsDB keeps
sha256(token) with the user, start, expiry and end in its `sessions` table (grants in `session_grants`).
Logging out ends the session, so a stolen cookie dies with it; a password reset or `users disable` ends every
session of the user in one statement (OpsDB.end_sessions) and sets its `sessions_after`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from yuqing.ops import OpsDB
from yuqing.records import utc

COOKIE = "yuqing_session"
TTL = timedelta(hours=12)
GRANT_TTL = timedelta(seconds=60)
MAX_TOKEN = 200  # longer cookies or grants are not ours: refused before hashing


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(ops: OpsDB, username: str, now: datetime) -> str:
    """A new session for `username`; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    ops.add_session(token_hash(token), username, utc(now), utc(now) + TTL)
    return token


def resume(ops: OpsDB, token: str, now: datetime) -> dict[str, Any] | None:
    """The user of a live session, with the role the OpsDB holds now; None when unknown, ended, expired, or the
    user was removed, disabled or had the password reset since the session started."""
    if not token or len(token) > MAX_TOKEN:
        return None
    user = ops.session_user(token_hash(token), utc(now))
    if user is None:
        return None
    return {"username": user.username, "role": user.role, "display_name": user.display_name or user.username}


def end(ops: OpsDB, token: str, now: datetime) -> None:
    if token and len(token) <= MAX_TOKEN:
        ops.end_session(token_hash(token), utc(now))


def issue_grant(ops: OpsDB, username: str, now: datetime) -> str:
    """A one-time code, good for GRANT_TTL, that the browser exchanges for a session cookie."""
    grant = secrets.token_urlsafe(32)
    ops.add_grant(token_hash(grant), username, utc(now), utc(now) + GRANT_TTL)
    return grant


def redeem_grant(ops: OpsDB, grant: str, now: datetime) -> str | None:
    """A new session token for a live grant (which is used up, whoever presents it first), else None."""
    if not grant or len(grant) > MAX_TOKEN:
        return None
    username = ops.redeem_grant(token_hash(grant), utc(now))
    if username is None:
        return None
    user = ops.get_user(username)
    if user is None or user.disabled:
        return None
    return start(ops, user.username, now)


def cookie_header(token: str, *, secure: bool = False) -> str:
    """The Set-Cookie value that stores (token) or clears ("") the session cookie; HttpOnly always."""
    if token:
        attrs = f"Path=/; Max-Age={int(TTL.total_seconds())}; HttpOnly; SameSite=Strict"
    else:
        attrs = "Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    return f"{COOKIE}={token}; {attrs}" + ("; Secure" if secure else "")
