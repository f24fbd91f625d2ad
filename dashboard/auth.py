"""The login gate: a form, the user kept in session state, role checks for pages and actions."""

from __future__ import annotations

import streamlit as st

from yuqing.vocab import ROLE_ZH

from . import data, sessions, ui, users


def login_form() -> None:
    """Ask for username and password; on success remember the user in the session."""
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
        token = data.start_session(user.username)
        st.session_state["session_token"] = token
        st.session_state["cookie_to_set"] = token  # written by the next (logged-in) run, see sync_cookie
        st.rerun()
    st.caption("没有账号？请管理员用 `yuqing users add 用户名 --role viewer|responder|admin` 创建。")


def logout_button() -> None:
    u = ui.current_user()
    st.sidebar.caption(f"当前用户：{u.get('display_name') or u.get('username')}（{ROLE_ZH.get(u.get('role', ''), '')}）")
    if st.sidebar.button("退出登录", key="logout"):
        data.end_session(st.session_state.pop("session_token", "") or _cookie())
        st.session_state.pop("user", None)
        st.session_state["cookie_to_set"] = ""  # clear the browser's cookie on the next run
        st.rerun()


def _cookie() -> str:
    try:
        return str(st.context.cookies.get(sessions.COOKIE, "") or "")
    except Exception:  # no browser behind this run (AppTest, bare mode)
        return ""


def resume_from_cookie() -> None:
    """A reload keeps the login: the session cookie names a live session in the store."""
    token = _cookie()
    if token:
        user = data.resume_session(token)
        if user:
            st.session_state["user"] = user
            st.session_state["session_token"] = token


def sync_cookie() -> None:
    """Store or clear the session cookie in the browser once, after login or logout."""
    if "cookie_to_set" not in st.session_state:
        return
    token = st.session_state.pop("cookie_to_set")
    secure = str(getattr(st.context, "url", "") or "").startswith("https://")
    st.html(sessions.cookie_script(token, secure=secure), unsafe_allow_javascript=True)


def allowed(needed: str) -> bool:
    return users.can(ui.role(), needed)


def require(needed: str) -> bool:
    """Show a notice and return False when the current user lacks the role."""
    if allowed(needed):
        return True
    st.info(f"此操作需要「{ROLE_ZH[needed]}」及以上权限。")
    return False
