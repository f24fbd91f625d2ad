"""Entrypoint: `streamlit run dashboard/app.py`. Login gate and navigation; each page shows the crisis banner."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth, data, ui

HERE = Path(__file__).parent
PAGES = HERE / "pages"

st.set_page_config(page_title="舆情监测", page_icon="📡", layout="wide")

token = st.query_params.get("unsubscribe", "")
if token:  # the link at the foot of every alert email works without a login
    if data.unsubscribe(token):
        st.success("已退订：您将不再收到舆情预警邮件。")
    else:
        st.error("退订链接无效或已过期，请联系管理员。")
    st.stop()

if not ui.current_user():
    auth.resume_from_cookie()
if not ui.current_user():
    auth.sync_cookie()  # after a logout: clear the cookie
    auth.login_form()
    st.stop()
auth.sync_cookie()  # after a login: keep the session across reloads

pages = [
    st.Page(PAGES / "overview.py", title="总览", icon="📊", default=True),
    st.Page(PAGES / "alerts.py", title="预警", icon="🚨"),
    st.Page(PAGES / "queue.py", title="待处理", icon="📝"),
    st.Page(PAGES / "search.py", title="搜索", icon="🔎"),
    st.Page(PAGES / "reports.py", title="报表", icon="📑"),
    st.Page(PAGES / "sources.py", title="数据源", icon="🛰️"),
]
if auth.allowed("admin"):  # a responder cannot change subscribers
    pages.append(st.Page(PAGES / "subscribers.py", title="订阅", icon="✉️"))
page = st.navigation(pages)
auth.logout_button()
page.run()  # every page starts with ui.page_header: the crisis banner, then its title
