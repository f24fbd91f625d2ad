"""The login gate: a form, the user kept in session state, role checks for pages and actions.

The session cookie is HttpOnly and set by the server (dashboard/web.py): after a successful login this page
posts a one-time grant to /_yuqing/session, which answers with the cookie; logging out posts to /_yuqing/logout.
Every run checks that the session is still live, so a password reset, `users disable` or `users remove` ends a
logged-in browser at its next click.
"""

from __future__ import annotations

import html
import json

import streamlit as st

from yuqing.vocab import ROLE_ZH

from . import data, sessions, ui, users
from .web import LOGOUT_PATH, SESSION_PATH


def current_user() -> dict[str, str]:
    """The logged-in user of this browser session, checked against the store on every run ({} when none)."""
    user = ui.current_user()
    if not user:
        return {}
    token = st.session_state.get("session_token", "")
    alive = data.resume_session(token) if token else data.active_user(user.get("username", ""))
    if not alive:
        st.session_state.pop("user", None)
        st.session_state.pop("session_token", None)
        return {}
    st.session_state["user"] = alive  # the role the store holds now
    return alive


def login_form() -> None:
    """Ask for username and password; on success remember the user and have the server set the cookie."""
    st.title("舆情监测平台 · 登录")
    with st.form("login"):
        name = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        submitted = st.form_submit_button("登录")
    if submitted:
        if not name or not password:
            st.error("请输入用户名和密码")
            return
        result = data.login(name, password)
        user = result.user
        if user is None:
            st.error(result.message)
            return
        st.session_state["user"] = {"username": user.username, "role": user.role,
                                    "display_name": user.display_name or user.username}
        st.session_state["cookie_grant"] = data.issue_grant(user.username)  # posted by the next run, sync_cookie
        st.rerun()
    st.caption("没有账号？请管理员用 `yuqing users add 用户名 --role viewer|responder|admin` 创建。")


def logout_button() -> None:
    u = ui.current_user()
    st.sidebar.caption(f"当前用户：{u.get('display_name') or u.get('username')}（{ROLE_ZH.get(u.get('role', ''), '')}）")
    if st.sidebar.button("退出登录", key="logout"):
        data.end_session(st.session_state.pop("session_token", "") or _cookie())
        st.session_state.pop("user", None)
        st.session_state["cookie_clear"] = True  # the next run posts to /_yuqing/logout, which clears the cookie
        st.rerun()


def _cookie() -> str:
    try:
        return str(st.context.cookies.get(sessions.COOKIE, "") or "")
    except Exception:  # no browser behind this run (AppTest, bare mode)
        return ""


def resume_from_cookie() -> dict[str, str]:
    """A reload keeps the login: the (HttpOnly) session cookie names a live session in the store; its user, or {}."""
    token = _cookie()
    user = data.resume_session(token) if token else None
    if not user:
        return {}
    st.session_state["user"] = user
    st.session_state["session_token"] = token
    return user


def _here() -> str:
    """This page's path and query, to come back to after the cookie round trip."""
    try:
        from urllib.parse import urlsplit

        parts = urlsplit(str(st.context.url or ""))
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    except Exception:
        return "/"


def _post_form(action: str, fields: dict[str, str]) -> None:
    """Navigate the browser by posting a small form (the server answers with Set-Cookie and a redirect)."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items())
    st.html(f'<form id="yuqing-auth" method="post" action={json.dumps(action)}>{inputs}</form>'
            "<script>document.getElementById('yuqing-auth').submit();</script>", unsafe_allow_javascript=True)


def sync_cookie() -> None:
    """After a login or a logout, let the server set or clear the HttpOnly session cookie (once)."""
    grant = st.session_state.pop("cookie_grant", "")
    if grant:
        _post_form(SESSION_PATH, {"grant": grant, "next": _here()})
    elif st.session_state.pop("cookie_clear", False):
        _post_form(LOGOUT_PATH, {})


def allowed(needed: str) -> bool:
    return users.can(ui.role(), needed)


def require(needed: str) -> bool:
    """Show a notice and return False when the current user lacks the role."""
    if allowed(needed):
        return True
    st.info(f"此操作需要「{ROLE_ZH[needed]}」及以上权限。")
    return False
