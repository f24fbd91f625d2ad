"""报表: daily and weekly figures (posts, negative share, replies, median time to reply, by touchpoint); CSV/Excel."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import streamlit as st

from dashboard import data, reports, ui
from dashboard.filters import Filters

SPANS = {"daily": {7: "最近7天", 30: "最近30天", 90: "最近90天"}, "weekly": {28: "最近4周", 84: "最近12周"}}

ui.page_header("报表")
c1, c2 = st.columns(2)
period = c1.segmented_control("报表类型", list(reports.PERIOD_ZH), default="daily",
                              format_func=reports.PERIOD_ZH.__getitem__, key="report_period") or "daily"
days = c2.selectbox("时间范围", list(SPANS[period]), format_func=SPANS[period].__getitem__, key=f"report_days_{period}")
f = ui.filter_sidebar(**ui.filter_options())
now = data.now().replace(second=0, microsecond=0)
base = dataclasses.replace(Filters(operators=f.operators, platforms=f.platforms, touchpoints=f.touchpoints,
                                   regions=f.regions).query(now), since=now - timedelta(days=days))
by_label = data.volume(base, 3600, "label")
tp_all = data.volume(base, 3600, "touchpoint")
tp_neg = data.volume(dataclasses.replace(base, labels=("negative",)), 3600, "touchpoint")
replies = data.replies_since(base.since)

summary = reports.summary(by_label, replies, period)
touch = reports.by_touchpoint(tp_all, tp_neg, period)
name = f"舆情{reports.PERIOD_ZH[period]}_{now.strftime('%Y%m%d')}"
st.subheader("汇总")
ui.table((summary, reports.shown))
st.subheader("按触点")
ui.table((touch, reports.shown))
d1, d2, d3 = st.columns(3)
d1.download_button("导出汇总 CSV", reports.to_csv(summary), f"{name}_汇总.csv", "text/csv", key="dl_summary_csv")
d2.download_button("导出触点 CSV", reports.to_csv(touch), f"{name}_触点.csv", "text/csv", key="dl_touch_csv")
d3.download_button("导出 Excel", reports.to_excel({"汇总": summary, "按触点": touch}), f"{name}.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
