"""热榜 page: each watched entry's rank over time (rank axis inverted) and its status, in Chinese, behind the login."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from dashboard import charts
from yuqing.records import HotTrack
from yuqing.vocab import HOT_BOARD_ZH

from .conftest import NOW, app_as
from .test_alerts_queue import on_page

WORD = "郑州电信宽带大面积断网"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def poll(store, minutes_ago: int, board: str, shown: dict[str, int]) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    store.record_hot_poll(board, at, [HotTrack(board=board, word=w, first_seen=at, last_seen=at, rank=r, best_rank=r,
                                               heat=100_000 * (50 - r), operators=("中国电信",), words=("断网",))
                                      for w, r in shown.items()])


def chart_spec(at) -> dict:
    (chart,) = [e for e in at.get("vega_lite_chart")]
    return json.loads(chart.proto.spec)


def test_the_rank_of_each_watched_entry_over_time(filled):
    for minutes_ago, rank in ((40, 28), (35, 15), (30, 6), (20, 2)):
        poll(filled, minutes_ago, "weibo", {WORD: rank, "电信5G套餐调整": 30} if minutes_ago > 30 else {WORD: rank})
    poll(filled, 25, "baidu", {"郑州多区宽带断网": 20})
    at = on_page("viewer", "hotlists")
    assert at.title[0].value == "热榜"
    assert {m.label: m.value for m in at.metric} == {"在榜条目": "2", "最高排名": "2", "已下榜": "1"}
    assert any(WORD in w.value and "微博热搜第 2 位" in w.value for w in at.warning)
    table = at.dataframe[0].value
    rows = {r["条目"]: r for r in table.to_dict("records")}
    assert rows[WORD]["状态"] == "上升" and rows[WORD]["当前排名"] == 2 and rows[WORD]["最高排名"] == 2
    assert rows["电信5G套餐调整"]["状态"] == "已下榜" and rows["郑州多区宽带断网"]["状态"] == "新上榜"
    assert rows[WORD]["榜单"] == "微博热搜" and rows[WORD]["命中"] == "中国电信、断网"
    assert rows[WORD]["已检索帖子"] == "等待中"
    spec = chart_spec(at)
    assert spec["encoding"]["y"]["scale"]["reverse"] is True and spec["encoding"]["y"]["title"] == "排名"
    assert spec["encoding"]["x"]["field"] == "时间" and spec["encoding"]["color"]["field"] == "条目"
    frame = charts.rank_frame(filled.list_hot_tracks(with_ranks=True), HOT_BOARD_ZH)  # what the page charts
    assert frame[frame["条目"] == f"微博热搜：{WORD}"]["排名"].tolist() == [28, 15, 6, 2]
    assert frame["时间"].min() == (NOW - timedelta(minutes=40)).astimezone(SHANGHAI).replace(tzinfo=None)


def test_without_entries_the_page_says_so(filled):
    at = on_page("viewer", "hotlists")
    assert "热搜热榜上没有出现" in at.info[0].value and not at.get("vega_lite_chart")
    poll(filled, 24 * 60, "weibo", {WORD: 5})  # a day ago: outside the default 24 hours ...
    at.selectbox(key="hot_hours").set_value(168).run()
    assert not at.exception and at.dataframe[0].value["条目"].tolist() == [WORD]  # ... inside 7 days


def test_the_page_needs_a_login(filled):
    poll(filled, 20, "weibo", {WORD: 2})
    at = app_as(None).run()
    assert at.title[0].value == "舆情监测平台 · 登录" and not at.get("vega_lite_chart") and not at.dataframe
