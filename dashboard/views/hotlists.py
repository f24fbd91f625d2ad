"""热榜: the watched entries on 微博热搜, 百度热搜, 知乎热榜 and 抖音热榜, each one's rank over time (rank 1 at the top)
and its status at the last poll."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from yuqing.timefmt import local_str
from yuqing.vocab import HOT_BOARD_ZH, HOT_STATUS_ZH

SPANS = {6: "近6小时", 24: "近24小时", 72: "近3天", 168: "近7天"}

ui.page_header("热榜")
hours = st.selectbox("时间范围", list(SPANS), index=1, format_func=SPANS.__getitem__, key="hot_hours")
tracks = data.hot_tracks(data.now() - timedelta(hours=hours))
if not tracks:
    st.info("所选时间内，热搜热榜上没有出现关注的运营商或关注词。")
    st.stop()

listed = [t for t in tracks if t.status != "gone"]
c1, c2, c3 = st.columns(3)
c1.metric("在榜条目", len(listed))
c2.metric("最高排名", min(t.best_rank for t in tracks))
c3.metric("已下榜", len(tracks) - len(listed))
for t in listed:
    if t.status in ("new", "rising") and t.rank <= 10:
        st.warning(f"{HOT_BOARD_ZH[t.board]}第 {t.rank} 位（{HOT_STATUS_ZH[t.status]}）：{ui.escape_md(t.word)}")

st.subheader("排名走势")
st.altair_chart(charts.rank_chart(charts.rank_frame(tracks, HOT_BOARD_ZH)), width="stretch")
st.caption("纵轴为榜单排名，第 1 名在最上方；每个点为一次轮询。")

st.subheader("上榜条目")
ui.table(pd.DataFrame([{
    "榜单": HOT_BOARD_ZH[t.board], "条目": t.word, "状态": HOT_STATUS_ZH[t.status],
    "当前排名": "置顶" if t.rank == 0 else t.rank, "最高排名": t.best_rank, "热度": t.heat, "标签": t.label,
    "首次上榜": local_str(t.first_seen), "最近在榜": local_str(t.last_seen),
    "命中": "、".join((*t.operators, *t.words)), "已检索帖子": local_str(t.searched_at) if t.searched_at else "等待中",
    "链接": t.url,
} for t in tracks]))
