"""The hot_list rule on synthetic windows: entered, rising by N places, in the top N, severity by rank bands,
scope by operator and board, and its settings validated with the field named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.hotrule import severity_for
from alerts.loader import parse_rules
from alerts.rules import RuleError, build_rule
from alerts.window import Scope, Window
from tests.alerts.factory import NOW, window
from yuqing.records import HotTrack


def track(ranks: list[int], *, board: str = "weibo", word: str = "郑州电信宽带大面积断网", status: str = "rising",
          operators: tuple[str, ...] = ("中国电信",), words: tuple[str, ...] = ("宽带", "断网")) -> HotTrack:
    polls = tuple((NOW - timedelta(minutes=5 * (len(ranks) - i)), r, 100_000 * (50 - r)) for i, r in enumerate(ranks))
    return HotTrack(board=board, word=word, first_seen=polls[0][0], last_seen=polls[-1][0], rank=ranks[-1],
                    best_rank=min(ranks), heat=polls[-1][2], status=status, operators=operators, words=words,
                    ranks=polls)


def hot(*tracks: HotTrack) -> Window:
    return window([], hot=tracks)


CASES = [  # (settings, tracks, expected [(key, severity)])
    ({}, [track([28])], [("weibo:郑州电信宽带大面积断网", "yellow")]),
    ({}, [track([45])], [("weibo:郑州电信宽带大面积断网", "blue")]),  # on the list, below every band
    ({}, [track([28, 15, 6])], [("weibo:郑州电信宽带大面积断网", "orange")]),
    ({}, [track([28, 15, 6, 2])], [("weibo:郑州电信宽带大面积断网", "red")]),
    ({}, [track([0])], [("weibo:郑州电信宽带大面积断网", "red")]),  # pinned above the list
    ({}, [track([2], status="gone")], []),  # left the list
    ({"entered": False, "rising": 10}, [track([28, 25])], []),
    ({"entered": False, "rising": 10}, [track([28, 15])], [("weibo:郑州电信宽带大面积断网", "yellow")]),
    ({"entered": False, "top": 5}, [track([28, 15, 6])], []),
    ({"entered": False, "top": 5}, [track([6, 4])], [("weibo:郑州电信宽带大面积断网", "orange")]),
    ({"boards": ["baidu"]}, [track([2]), track([20], board="baidu", word="郑州多区宽带断网")],
     [("baidu:郑州多区宽带断网", "yellow")]),
    ({"severity": "orange", "severity_by_rank": {"red": 1}}, [track([20]), track([1], board="douyin")],
     [("weibo:郑州电信宽带大面积断网", "red")]),  # one story on two boards: one match, keyed by the first entry
    ({"severity": "orange", "severity_by_rank": {"red": 1}},
     [track([20]), track([1], board="douyin", word="携号转网新规今日起实施")],
     [("weibo:郑州电信宽带大面积断网", "orange"), ("douyin:携号转网新规今日起实施", "red")]),
    ({"scope": Scope(operators=("中国移动",))}, [track([2])], []),
    ({"scope": Scope(operators=("中国移动",))}, [track([9], word="移动5G套餐降价", operators=("中国移动",))],
     [("weibo:移动5G套餐降价", "orange")]),
]


@pytest.mark.parametrize(("settings", "tracks", "expected"), CASES)
def test_hot_list_table(settings: dict, tracks: list[HotTrack], expected: list[tuple[str, str]]) -> None:
    matches = build_rule("hot_list", "热搜", **settings).evaluate(hot(*tracks))
    assert sorted((m.key, m.severity) for m in matches) == sorted(expected)


def test_the_reason_says_where_it_is_and_how_it_climbed() -> None:
    (m,) = build_rule("hot_list", "热搜", rising=10).evaluate(hot(track([28, 15, 6, 2])))
    assert m.title == "中国电信相关话题登上微博热搜（第 2 位）：郑州电信宽带大面积断网"
    assert "登上微博热搜" in m.reason and "上升 26 位" in m.reason and "从第 28 位升至第 2 位" in m.reason
    assert "命中：中国电信、宽带、断网" in m.reason and "热度 4800000" in m.reason
    assert (m.count, m.baseline, m.rule_type) == (2, 2.0, "hot_list")
    assert m.scope == {"operators": ("中国电信",), "platforms": ("weibo",)} and m.keywords[0] == m.key.split(":")[1]
    (m,) = build_rule("hot_list", "热搜").evaluate(hot(track([20], board="douyin", operators=(), words=("断网",))))
    assert m.title.startswith("关注话题登上抖音热榜") and m.scope == {}  # no operator, not a post platform


@pytest.mark.parametrize(("rank", "severity"), [(0, "red"), (3, "red"), (4, "orange"), (10, "orange"),
                                                (11, "yellow"), (30, "yellow"), (31, "blue")])
def test_severity_bands(rank: int, severity: str) -> None:
    assert severity_for(rank, {"red": 3, "orange": 10, "yellow": 30}, "blue") == severity


@pytest.mark.parametrize(("item", "message"), [
    ({"severity_by_rank": {"purple": 3}}, r"severity_by_rank\.purple: not a severity"),
    ({"severity_by_rank": {"red": 0}}, r"severity_by_rank\.red: must be at least 1"),
    ({"severity_by_rank": [3]}, r"severity_by_rank: expected a mapping"),
    ({"boards": ["toutiao"]}, r"unknown boards \['toutiao'\]"),
    ({"entered": False}, r"needs entered: true, rising: N or top: N"),
    ({"rising": -1}, r"rising: must be at least 0"),
    ({"labels": ["negative"]}, r"labels"),
])
def test_bad_settings_name_the_rule_and_field(item: dict, message: str) -> None:
    raw = {"rules": [{"name": "热搜", "type": "hot_list", **item}]}
    with pytest.raises(RuleError, match=message):
        parse_rules(raw, "rules.yaml")


def test_one_story_on_four_boards_is_one_match_named_by_its_best_rank() -> None:
    """The demo's outage on 微博热搜 #2, 抖音热榜 #4, 百度热搜 #5 and 知乎热榜 #8: one match keyed by the entry that
    came first (one alert from the first poll on, raised as it climbs); another story stays its own."""
    from yuqing.records import Event

    outage = Event("ev_zz", "中国电信·郑州：断网 电信宽带 工信部", NOW - timedelta(minutes=30), NOW, size=20,
                   keywords=("断网", "电信宽带", "工信部", "郑州", "影响面"), operators=("中国电信",), city="郑州")
    other = Event("ev_gz", "中国电信·广州：断网 光猫", NOW - timedelta(minutes=30), NOW, size=9,
                  keywords=("断网", "光猫"), operators=("中国电信",), city="广州")
    tracks = [track([28, 2]), track([9, 4], board="douyin", word="郑州宽带大面积断网", operators=()),
              track([5], board="baidu", word="郑州多区宽带断网", operators=()),
              track([8], board="zhihu", word="如何看待郑州电信宽带大面积断网？"),
              track([12], board="baidu", word="携号转网新规今日起实施", words=("携号转网",))]
    w = window([], hot=tuple(tracks), events={"ev_zz": outage, "ev_gz": other}, event_counts={"ev_zz": 20, "ev_gz": 9})
    rule = build_rule("hot_list", "热搜")
    matches = {m.key: m for m in rule.evaluate(w)}
    assert set(matches) == {"weibo:郑州电信宽带大面积断网", "baidu:携号转网新规今日起实施"}
    m = matches["weibo:郑州电信宽带大面积断网"]
    assert m.severity == "red" and m.event_id == ""
    assert m.title == "中国电信相关话题登上微博热搜（第 2 位）、抖音热榜（第 4 位）、百度热搜（第 5 位）、知乎热榜（第 8 位）：郑州电信宽带大面积断网"
    assert all(board in m.reason for board in ("微博热搜", "抖音热榜", "百度热搜", "知乎热榜"))
    assert set(m.scope["platforms"]) == {"weibo", "zhihu"}  # the boards that are yuqing sources
    assert rule.evaluate(window([], hot=tuple(tracks)))[0].title == m.title  # alike in wording: the same without events


def test_entries_are_one_story_by_wording_or_by_event() -> None:
    from alerts.hotrule import alike, topics
    from yuqing.records import Event

    zz = track([3], word="郑州电信宽带大面积断网")
    assert alike(zz, track([5], board="baidu", word="郑州多区宽带断网"))
    assert alike(zz, track([8], board="zhihu", word="如何看待郑州电信宽带大面积断网？"))
    assert not alike(track([3], word="中国移动5G套餐降价"), track([4], board="baidu", word="中国移动宽带套餐涨价"))
    assert not alike(zz, track([4], board="baidu", word="广州电信宽带提速"))
    far = track([6], board="douyin", word="二七区光猫红灯一整天", operators=())
    assert len(topics([zz, far], window([]))) == 2
    outage = Event("ev_zz", "中国电信·郑州：断网 光猫", NOW, NOW, size=9, keywords=("断网", "光猫", "红灯"),
                   operators=("中国电信",), city="郑州")
    w = window([], events={"ev_zz": outage}, event_counts={"ev_zz": 9})
    assert [len(g) for g in topics([zz, far], w)] == [2]  # both speak of the 郑州 event (光猫 红灯 in the second)
