"""总览: volume by sentiment and platform, operators compared, touchpoint x sentiment, events, regions, keywords."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, overview, ui

ui.page_header("总览")
f = ui.filter_sidebar(**ui.filter_options())
ours = data.settings().dashboard.our_operator
now = data.now()
o = overview.load(f, now, data.run_spec)

c1, c2, c3, c4 = st.columns(4)
c1.metric("帖子总数", f"{o.total:,}")
c2.metric("负面", f"{o.negative:,}")
c3.metric("负面占比", f"{o.negative_share:.1%}")
c4.metric("净情感", f"{o.net_sentiment:+.1%}", help="(正面 - 负面) / 总数")

st.subheader("声量走势（按情感）")
st.altair_chart(charts.volume_chart(charts.buckets_frame(o.by_label, ui.LABEL_ZH), by_label=True),
                width="stretch")
st.subheader("声量走势（按平台）")
st.altair_chart(charts.volume_chart(charts.buckets_frame(o.by_platform, ui.PLATFORM_ZH), by_label=False),
                width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("运营商声量份额与净情感")
    ui.table(o.operators_frame(ours))
with right:
    st.subheader("触点 × 情感")
    if o.heat.empty:
        st.caption("暂无数据")
    else:
        st.altair_chart(charts.heatmap(o.heat), width="stretch")



def ranked(title: str, frame, label: str, everything: str) -> None:
    """A top-15 bar chart with the whole table in an expander below it."""
    st.subheader(title)
    if frame.empty:
        st.caption("暂无数据")
    else:
        st.altair_chart(charts.ranked_bars(frame.head(15), label), width="stretch")
    with st.expander(everything):
        ui.table(frame)


left, right = st.columns(2)
with left:
    ranked("地区排行", o.regions, "地区", "全部地区")
with right:
    ranked("热词", o.keywords, "热词", "全部热词")

st.subheader("热点事件")
ui.table(o.events)

st.subheader("最新帖子")
ui.table(ui.posts_frame(o.latest))
