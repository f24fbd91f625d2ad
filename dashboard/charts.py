"""Altair charts built from store aggregates; pure (data in, chart out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from yuqing.index import Bucket
from yuqing.timefmt import local

LABEL_COLORS = {"负面": "#d62728", "中性": "#9e9e9e", "正面": "#2ca02c"}
ROW_PX = 22  # height per category of a chart with one row per category: room for every label
AXIS_PX = 60  # Streamlit fits the whole chart, x axis and its title included, into the height
MIN_HEIGHT = 120


def _rows_height(n: int) -> int:
    return max(MIN_HEIGHT, ROW_PX * n + AXIS_PX)


def _category_axis() -> alt.Axis:
    """Every category labelled: Vega-Lite's default overlap removal drops every other label."""
    return alt.Axis(labelOverlap=False, labelLimit=200)


def buckets_frame(buckets: Sequence[Bucket], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Buckets as a frame with local (Asia/Shanghai) naive times for plotting."""
    names = names or {}
    rows = [{"时间": local(b.start).replace(tzinfo=None), "类别": names.get(b.key, b.key), "数量": b.count}
            for b in buckets]
    return pd.DataFrame(rows, columns=["时间", "类别", "数量"])


def volume_chart(frame: pd.DataFrame, *, by_label: bool) -> alt.Chart:
    color = (alt.Color("类别:N", scale=alt.Scale(domain=list(LABEL_COLORS), range=list(LABEL_COLORS.values())))
             if by_label else alt.Color("类别:N"))
    return (alt.Chart(frame).mark_bar().encode(
        x=alt.X("时间:T", title=None, axis=alt.Axis(format="%m-%d %H:%M", labelAngle=0)),
        y=alt.Y("数量:Q", stack=True, title="帖子数"), color=color,
        tooltip=[alt.Tooltip("时间:T", format="%Y-%m-%d %H:%M"), "类别:N", "数量:Q"]).properties(height=260))


def heatmap(frame: pd.DataFrame) -> alt.Chart:
    """Touchpoint x sentiment counts; frame columns 触点, 情感, 数量."""
    return (alt.Chart(frame).mark_rect().encode(
        x=alt.X("情感:N", sort=list(LABEL_COLORS), title=None), y=alt.Y("触点:N", title=None, axis=_category_axis()),
        color=alt.Color("数量:Q", scale=alt.Scale(scheme="orangered")), tooltip=["触点", "情感", "数量"])
        .properties(height=_rows_height(frame["触点"].nunique())))


def ranked_bars(frame: pd.DataFrame, key: str, value: str = "数量") -> alt.Chart:
    return (alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{value}:Q"), y=alt.Y(f"{key}:N", sort="-x", title=None, axis=_category_axis()), tooltip=[key, value])
        .properties(height=_rows_height(len(frame))))


def rank_frame(tracks: Sequence[object], boards: Mapping[str, str]) -> pd.DataFrame:
    """One row per poll of each hot-list track (HotTrack with ranks): local time, its rank and heat, and the entry
    named with its board."""
    rows = [{"时间": local(at).replace(tzinfo=None), "条目": f"{boards.get(t.board, t.board)}：{t.word}",  # type: ignore[attr-defined]
             "排名": rank, "热度": heat} for t in tracks for at, rank, heat in t.ranks]  # type: ignore[attr-defined]
    return pd.DataFrame(rows, columns=["时间", "条目", "排名", "热度"])


def rank_chart(frame: pd.DataFrame) -> alt.Chart:
    """Rank over time per entry, the rank axis inverted (1 at the top)."""
    return (alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("时间:T", title=None, axis=alt.Axis(format="%m-%d %H:%M", labelAngle=0)),
        y=alt.Y("排名:Q", title="排名", scale=alt.Scale(reverse=True, zero=False, domainMin=1)),
        color=alt.Color("条目:N", legend=alt.Legend(orient="bottom", columns=1, labelLimit=400)),
        tooltip=[alt.Tooltip("时间:T", format="%Y-%m-%d %H:%M"), "条目:N", "排名:Q", "热度:Q"]).properties(height=320))
