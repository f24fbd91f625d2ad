"""报表: daily and weekly figures (posts, negative share, replies, median time to reply, by touchpoint); CSV/Excel;
and the briefs (日报, 周报, an event's 专报) as PDF, Word or HTML."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import streamlit as st

from dashboard import briefs, data, ui
from dashboard import report_tables as reports  # the top-level `reports` package is the briefs
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

st.subheader("简报下载")
st.caption("舆情日报、周报与事件专报：核心数据与上期对比、摘要、主要事件及时间线、触点、地区、热词、预警处置和回复队列，含图表。")
asked = st.query_params.get("brief", "")  # the link in a scheduled brief's email: ?brief=daily&date=YYYY-MM-DD
KINDS = {"daily": "舆情日报", "weekly": "舆情周报", "event": "事件专报"}
b1, b2, b3 = st.columns(3)
kind = b1.selectbox("简报类型", list(KINDS), index=list(KINDS).index(asked) if asked in KINDS else 0,
                    format_func=KINDS.__getitem__, key="brief_kind")
try:
    asked_day = date.fromisoformat(st.query_params.get("date", ""))
except ValueError:
    asked_day = None
operator = b3.selectbox("运营商", [""] + ui.filter_options().get("operators", []), key="brief_operator",
                        format_func=lambda o: o or "全部")
if kind == "event":
    found = data.events(now - timedelta(days=30), limit=50)
    if not found:
        b2.caption("最近 30 天没有事件。")
    else:
        event_id = b2.selectbox("事件", [e.event_id for e in found], key="brief_event",
                                format_func=lambda i: next(f"{e.title}（{e.size} 条）" for e in found if e.event_id == i))
        briefs.download(f"brief_event_{event_id}_{operator}",
                        lambda: data.brief("event", event_id=event_id, operator=operator), "生成专报")
else:
    from yuqing.timefmt import local

    day = b2.date_input("日期（周报取其所在周）", value=asked_day or local(now).date(), key="brief_day")
    briefs.download(f"brief_{kind}_{day}_{operator}", lambda: data.brief(kind, day=day, operator=operator))
