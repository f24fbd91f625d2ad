"""Entrypoint: `streamlit run dashboard/app.py` (through dashboard/server.py). Login gate and navigation.

The pages live in `views/`, not `pages/`: Streamlit serves a `pages/` folder beside the main script on its own
paths until `st.navigation` first runs, which let an anonymous browser read every page after each start.
Without a login, every page path is the login form (same url paths, so the visitor lands where they were going
once logged in); each page starts with the crisis banner.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth, data
from yuqing.errors import StoreError

HERE = Path(__file__).parent
VIEWS = HERE / "views"
# (file, title, icon, role needed to see it)
PAGES = (
    ("overview", "总览", "📊", "viewer"),
    ("alerts", "预警", "🚨", "viewer"),
    ("queue", "待处理", "📝", "viewer"),
    ("search", "搜索", "🔎", "viewer"),
    ("reports", "报表", "📑", "viewer"),
    ("hotlists", "热榜", "🔥", "viewer"),
    ("sources", "数据源", "🛰️", "viewer"),
    ("subscribers", "订阅", "✉️", "admin"),  # a responder cannot change subscribers
)

st.set_page_config(page_title="舆情监测", page_icon="📡", layout="wide")

def main() -> None:
    token = st.query_params.get("unsubscribe", "")
    if token:  # the link at the foot of every alert email works without a login
        if data.unsubscribe(token):
            st.success("已退订：您将不再收到舆情预警邮件。")
        else:
            st.error("退订链接无效或已过期，请联系管理员。")
        st.stop()

    user = auth.current_user() or auth.resume_from_cookie()  # one session check against the store per run
    auth.sync_cookie()  # after a login or logout: the server sets or clears the HttpOnly cookie
    if not user:
        gate = [st.Page(auth.login_form, title="登录", url_path=name, default=(i == 0))
                for i, (name, *_rest) in enumerate(PAGES)]
        st.navigation(gate, position="hidden").run()
        st.stop()

    pages = [st.Page(VIEWS / f"{name}.py", title=title, icon=icon, url_path=name, default=(name == "overview"))
             for name, title, icon, role in PAGES if auth.allowed(role)]
    page = st.navigation(pages)
    auth.logout_button()
    page.run()  # every page starts with ui.page_header: the crisis banner, then its title


try:
    main()
except StoreError as exc:  # locked, read-only, corrupt or unreachable: say so, show nothing half-drawn
    st.error(f"存储不可用，暂时无法读取或保存数据（数据不会丢失，恢复后自动继续）：{exc}")
    st.caption("请检查存储（`yuqing store status`）；恢复后刷新本页。")
    st.stop()
