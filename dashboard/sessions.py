"""Login sessions that survive a page reload: a random token in a cookie, its hash in the OpsDB.

The token itself is never stored; the OpsDB keeps sha256(token) with the user, start, expiry and end in its
`sessions` table. Logging out ends the session, so a stolen cookie dies with it; ending every session of a
user (password reset, removal) is one statement (OpsDB.end_sessions).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from yuqing.ops import OpsDB

COOKIE = "yuqing_session"
TTL = timedelta(hours=12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(ops: OpsDB, username: str, now: datetime) -> str:
    """A new session for `username`; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    ops.add_session(token_hash(token), username, now, now + TTL)
    return token


def resume(ops: OpsDB, token: str, now: datetime) -> dict[str, Any] | None:
    """The user of a live session, with the role the OpsDB holds now; None when unknown, ended or expired."""
    if not token or len(token) > 200:
        return None
    user = ops.session_user(token_hash(token), now)
    if user is None:
        return None
    return {"username": user.username, "role": user.role, "display_name": user.display_name or user.username}


def end(ops: OpsDB, token: str, now: datetime) -> None:
    if token:
        ops.end_session(token_hash(token), now)


def cookie_script(token: str, *, secure: bool = False) -> str:
    """JavaScript that stores (token) or clears ("") the session cookie in the browser."""
    if token:
        attrs = f"path=/; max-age={int(TTL.total_seconds())}; SameSite=Strict" + ("; Secure" if secure else "")
        value = token
    else:
        attrs, value = "path=/; max-age=0; SameSite=Strict", ""
    return f"<script>document.cookie = {json.dumps(f'{COOKIE}={value}; {attrs}')};</script>"
