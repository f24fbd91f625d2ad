"""Entrypoint: `streamlit run dashboard/app.py`. Login gate, crisis banner on every page, navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth, ui

HERE = Path(__file__).parent
PAGES = HERE / "pages"

st.set_page_config(page_title="舆情监测", page_icon="📡", layout="wide")

if not ui.current_user():
    auth.login_form()
    st.stop()

pages = [
    st.Page(PAGES / "overview.py", title="总览", icon="📊", default=True),
]
page = st.navigation(pages)
auth.logout_button()
ui.crisis_banner()
page.run()
