"""What `yuqing dashboard` serves: the Streamlit app (app.py) as an ASGI app (`st.App`) with the dashboard's
session-cookie endpoints (dashboard/web.py) beside it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.web import ROUTES

app = st.App(Path(__file__).with_name("app.py"), routes=ROUTES)
