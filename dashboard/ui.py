"""Shared page parts: the crisis banner, the filter sidebar kept in the URL, plain-text post display."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from yuqing import catalog
from yuqing.records import StoredPost
from yuqing.timefmt import local_str
from yuqing.vocab import ALERT_STATUS_ZH as ALERT_STATUS_ZH  # re-exported for the pages
from yuqing.vocab import LABEL_ZH as LABEL_ZH
from yuqing.vocab import PLATFORM_ZH as PLATFORM_ZH
from yuqing.vocab import PLATFORMS, SEVERITY_ZH

from . import data
from .cells import safe_frame
from .filters import LIST_PARAMS, RANGE_ZH, Filters, from_params, to_params
from .labels import action_zh as action_zh


def current_user() -> dict[str, str]:
    return st.session_state.get("user") or {}


def role() -> str:
    return current_user().get("role", "")


def username() -> str:
    return current_user().get("username", "")


def crisis_banner() -> None:
    """On every page while an orange or red alert is open: impossible to miss."""
    crisis = data.crisis_alerts()
    open_ones = [a for a in crisis if a.status == "open"]
    for a in open_ones[:3]:
        st.error(f"🚨 {SEVERITY_ZH[a.severity]}预警（未处理）：{escape_md(a.title)}　{local_str(a.opened_at)}　"
                 f"{escape_md(a.reason)}")
    if len(open_ones) > 3:
        st.error(f"🚨 另有 {len(open_ones) - 3} 条橙色/红色预警未处理，请到「预警」页处理")
    handling = [a for a in crisis if a.status == "acknowledged"]
    if handling:
        st.warning(f"⚠️ {len(handling)} 条橙色/红色预警处理中：" + "；".join(escape_md(a.title) for a in handling[:3]))


def filter_sidebar(*, operators: list[str], touchpoints: list[str], regions: list[str]) -> Filters:
    """Filter widgets in the sidebar, initialised from and written back to st.query_params."""
    current = from_params(st.query_params.to_dict())
    sb = st.sidebar
    sb.subheader("筛选")
    rng = sb.selectbox("时间范围", list(RANGE_ZH), index=list(RANGE_ZH).index(current.range),
                       format_func=RANGE_ZH.__getitem__, key="f_range")

    def multi(label: str, options: list[str], chosen: tuple[str, ...], key: str, fmt: Any = str) -> tuple[str, ...]:
        opts = list(dict.fromkeys([*options, *chosen]))
        return tuple(sb.multiselect(label, opts, default=list(chosen), format_func=fmt, key=key, placeholder="全部"))

    f = Filters(range=rng,
                operators=multi("运营商", operators, current.operators, "f_operator"),
                platforms=multi("平台", list(PLATFORMS), current.platforms, "f_platform",
                                lambda p: PLATFORM_ZH.get(p, p)),
                touchpoints=multi("触点", touchpoints, current.touchpoints, "f_touchpoint"),
                regions=multi("地区", regions, current.regions, "f_region"))
    wanted = to_params(f)
    keys = ("range", *LIST_PARAMS)
    if {k: v for k, v in st.query_params.to_dict().items() if k in keys} != wanted:
        for k in keys:
            if k in st.query_params:
                del st.query_params[k]
        st.query_params.update(wanted)
    return f


def filter_options() -> dict[str, list[str]]:
    """Options for the filter widgets: from the config files, else from the last 30 days in the store."""
    from yuqing.index import PostQuery

    s = data.settings()
    found: dict[str, list[str]] = {"regions": list(catalog.provinces())}
    for name, names in (("operators", catalog.operators), ("touchpoints", catalog.touchpoints)):
        try:
            found[name] = list(names(s))
        except catalog.CatalogError:
            found[name] = []
    recent = PostQuery(since=data.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=30))
    for name, field in (("operators", "operator"), ("touchpoints", "touchpoint"), ("regions", "province")):
        if not found[name]:
            found[name] = list(data.facet(recent, field, 50))
    return found


def post_text(sp: StoredPost) -> None:
    """A post's title and text, always as plain text: nothing from a post is parsed as HTML or Markdown."""
    if sp.post.title:
        st.text(sp.post.title)
    st.text(sp.post.text)


def post_caption(sp: StoredPost) -> str:
    """Platform, time, label and author for st.caption; the author's name is escaped (it comes from the post)."""
    p = sp.post
    return (f"{PLATFORM_ZH.get(p.platform, p.platform)} · {local_str(p.published_at)} · "
            f"{LABEL_ZH.get(sp.label, sp.label)} · 作者 {escape_md(p.author_name or p.author_id or '-')}")


def table(data: Any, **kwargs: Any) -> Any:
    """st.dataframe for every table on the dashboard: its download button must not export a live formula.
    `data` is a DataFrame, or a function that styles one (the frame is made safe before styling)."""
    import pandas as pd

    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    if isinstance(data, tuple):  # (frame, style function)
        frame, style = data
        return st.dataframe(style(safe_frame(frame)), **kwargs)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"ui.table takes a DataFrame or (DataFrame, style function), not {type(data).__name__}")
    return st.dataframe(safe_frame(data), **kwargs)


def posts_frame(posts: list[StoredPost]) -> Any:
    """A table of posts (shown as text by st.dataframe)."""
    import pandas as pd

    return pd.DataFrame([{
        "时间": local_str(sp.post.published_at), "平台": PLATFORM_ZH.get(sp.post.platform, sp.post.platform),
        "情感": LABEL_ZH.get(sp.label, sp.label), "运营商": "、".join(sp.post.operators),
        "内容": (sp.post.title + " " if sp.post.title else "") + sp.post.text,
        "影响力": round(sp.analysis.influence, 2) if sp.analysis else 0.0,
        "地区": sp.analysis.province if sp.analysis else sp.post.ip_region, "链接": sp.post.url,
    } for sp in posts], columns=["时间", "平台", "情感", "运营商", "内容", "影响力", "地区", "链接"])


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$&=\"'")


def escape_md(text: str) -> str:
    """Text safe to pass to a Markdown-rendering element (st.error, st.subheader): every special char escaped."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text).replace("\n", " ")


def page_header(title: str) -> None:
    """Every page starts here: the crisis banner, the page title, and the outcome of the last action."""
    crisis_banner()
    st.title(title)
    done = st.session_state.pop("flash", "")
    if done:
        st.success(done)


def flash(message: str) -> None:
    """Say what an action did, on the page shown after the rerun."""
    st.session_state["flash"] = message
