"""The download of a brief (日报, 周报, 专报) on the 报表 and 预警 pages: pick a format, build, download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from reports import MIME, render
from yuqing.briefs import file_name

FORMAT_ZH = {"pdf": "PDF", "docx": "Word", "html": "网页 HTML"}


def download(key: str, build: Callable[[], Any], label: str = "生成简报") -> None:
    """A format choice and a button that builds the brief; once built, its download button (kept until the inputs
    that `key` names change)."""
    c1, c2 = st.columns([2, 3])
    fmt = c1.segmented_control("格式", list(FORMAT_ZH), default="pdf", format_func=FORMAT_ZH.__getitem__,
                               key=f"{key}_fmt") or "pdf"
    slot = f"{key}_{fmt}_built"
    if c2.button(label, key=f"{key}_{fmt}_build"):
        try:
            with st.spinner("正在生成…"):
                b = build()
                st.session_state[slot] = (file_name(b, fmt), render(b, fmt))
        except KeyError as exc:
            st.error(f"无法生成：{exc.args[0] if exc.args else exc}")
            return
    built = st.session_state.get(slot)
    if built:
        name, data = built
        st.download_button(f"下载 {name}", data, name, MIME[fmt], key=f"{key}_{fmt}_download")
