"""Table tests of every rule type on synthetic windows: fires, does not fire, and at which severity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from alerts.rules import RULE_TYPES, build_rule
from alerts.window import Scope, Window
from tests.alerts.factory import NOW, health, stored, window
from tests.alerts.test_hotrule import hot, track
from yuqing.records import Event


def negatives(n: int, **kw: object) -> list:
    return [stored(**kw) for _ in range(n)]


def spike(n: int, baselines: tuple[int, ...]) -> Window:
    posts = negatives(n)
    return window(posts, baselines=baselines, keywords={"信号": n, "断网": 3})


def share(total: int, negative: int) -> Window:
    posts = negatives(negative) + [stored(label="neutral") for _ in range(total - negative)]
    return window(posts)


def escalate(n: int, word: str = "我要去工信部投诉", flagged: int = 0) -> Window:
    posts = [stored(f"移动乱扣费，{word}") for _ in range(n)]
    posts += [stored("普通吐槽", risk_flags=("escalation",)) for _ in range(flagged)]
    posts += negatives(5)
    return window(posts)


def influential(**kw: object) -> Window:
    return window([stored("联通宽带装机等了一个月", **kw), *negatives(3)])


def event_window(count: int, prev: int, age_minutes: float = 60) -> Window:
    ev = Event(event_id="e1", title="深圳移动大面积断网", first_seen=NOW - timedelta(minutes=age_minutes),
               last_seen=NOW, size=count + prev, negative=count, keywords=("断网", "深圳"), operators=("中国移动",))
    posts = negatives(min(count, 5), event_id="e1")
    return window(posts, minutes=30, event_counts={"e1": count, "e2": 2}, previous_event_counts={"e1": prev},
                  events={"e1": ev})


def outage(city_counts: dict[str, int], touchpoints: tuple[str, ...] = ("网络信号",), operator: str = "中国移动",
           label: str = "negative") -> Window:
    posts = []
    for city, n in city_counts.items():
        posts += [stored("没信号了", city=city, touchpoints=touchpoints, operators=(operator,), label=label)
                  for _ in range(n)]
    return window(posts, minutes=15)


def sources(*items: object) -> Window:
    return window([], sources=tuple(items))


CASES: list[tuple[str, str, dict, Callable[[], Window], list[tuple[str, str]]]] = [
    # id, type, rule settings, window, expected [(key, severity)]
    ("spike-fires", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(30, (4, 5, 6)), [("all", "orange")]),
    ("spike-fires-at-base", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(16, (5, 5, 5)),
     [("all", "yellow")]),
    ("spike-red", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(60, (4, 5, 6)), [("all", "red")]),
    ("spike-below-ratio", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(20, (10, 8, 9)), []),
    ("spike-below-min-count", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(9, (0, 0, 0)), []),
    ("spike-no-history", "volume_spike", {"min_count": 10, "ratio": 3}, lambda: spike(12, ()), [("all", "yellow")]),
    ("share-fires", "negative_share", {"threshold_pct": 40, "min_volume": 20}, lambda: share(30, 15), [("all", "yellow")]),
    ("share-raised", "negative_share", {"threshold_pct": 40, "min_volume": 20}, lambda: share(30, 20),
     [("all", "orange")]),
    ("share-red", "negative_share", {"threshold_pct": 40, "min_volume": 20}, lambda: share(30, 25), [("all", "red")]),
    ("share-below", "negative_share", {"threshold_pct": 40, "min_volume": 20}, lambda: share(30, 10), []),
    ("share-low-volume", "negative_share", {"threshold_pct": 40, "min_volume": 20}, lambda: share(10, 9), []),
    ("escalation-fires", "escalation", {"more_than": 2}, lambda: escalate(3), [("all", "orange")]),
    ("escalation-12300", "escalation", {"more_than": 2}, lambda: escalate(4, "已经打了12300"), [("all", "orange")]),
    ("escalation-risk-flag", "escalation", {"more_than": 2}, lambda: escalate(1, flagged=2), [("all", "orange")]),
    ("escalation-positive-label-not-counted", "escalation", {"more_than": 2},
     lambda: window([stored("去工信部投诉", label="positive") for _ in range(4)]), []),
    ("escalation-flag-counts-any-label", "escalation", {"more_than": 2},
     lambda: window([stored("损失惨重", label="positive", risk_flags=("escalation",)) for _ in range(3)]),
     [("all", "orange")]),
    ("escalation-raised", "escalation", {"more_than": 2}, lambda: escalate(6, "找媒体曝光"), [("all", "red")]),
    ("escalation-not-more-than", "escalation", {"more_than": 2}, lambda: escalate(2), []),
    ("escalation-number-inside-number", "escalation", {"more_than": 2, "words": ["315"]},
     lambda: escalate(4, "打了12315和3150号"), []),
    ("escalation-number-alone", "escalation", {"more_than": 2, "words": ["315"]},
     lambda: escalate(4, "等315晚会曝光"), [("all", "orange")]),
    ("escalation-no-words", "escalation", {"more_than": 2}, lambda: escalate(5, "太慢了"), []),
    ("influential-verified", "influential", {}, lambda: influential(verified=True), [("weibo:", "orange")]),
    ("influential-reposts-red", "influential", {"min_reposts": 500}, lambda: influential(reposts=12000),
     [("weibo:", "red")]),
    ("influential-followers", "influential", {"min_followers": 100000}, lambda: influential(followers=600000),
     [("weibo:", "red")]),
    ("influential-comments", "influential", {"min_comments": 500}, lambda: influential(comments=600),
     [("weibo:", "orange")]),
    ("influential-event-key", "influential", {}, lambda: influential(verified=True, event_id="e9"),
     [("event:e9", "orange")]),
    ("influential-small", "influential", {}, lambda: influential(followers=99999, reposts=499, comments=10), []),
    ("influential-verified-off", "influential", {"verified": False}, lambda: influential(verified=True), []),
    ("influential-verified-quiet", "influential", {"verified_min_engagement": 100},
     lambda: influential(verified=True, reposts=40, comments=35), []),
    ("influential-verified-engaged", "influential", {"verified_min_engagement": 100},
     lambda: influential(verified=True, reposts=60, comments=45), [("weibo:", "orange")]),
    ("event-fires", "event_growth", {"min_count": 10, "growth": 3}, lambda: event_window(15, 2), [("e1", "yellow")]),
    ("event-raised", "event_growth", {"min_count": 10, "growth": 3}, lambda: event_window(40, 1), [("e1", "red")]),
    ("event-slow", "event_growth", {"min_count": 10, "growth": 3}, lambda: event_window(15, 8), []),
    ("event-small", "event_growth", {"min_count": 10, "growth": 3}, lambda: event_window(8, 0), []),
    ("event-old", "event_growth", {"min_count": 10, "growth": 3, "max_age_minutes": 120},
     lambda: event_window(15, 2, age_minutes=600), []),
    ("outage-fires", "outage_city", {"min_count": 6}, lambda: outage({"深圳": 7, "广州": 2}),
     [("中国移动:深圳", "orange")]),
    ("outage-broadband-red", "outage_city", {"min_count": 6}, lambda: outage({"深圳": 25}, ("宽带",)),
     [("中国移动:深圳", "red")]),
    ("outage-neutral-reports", "outage_city", {"min_count": 6}, lambda: outage({"郑州": 7}, ("宽带",), label="neutral"),
     [("中国移动:郑州", "orange")]),
    ("outage-positive-not-counted", "outage_city", {"min_count": 6},
     lambda: outage({"郑州": 7}, ("宽带",), label="positive"), []),
    ("outage-spread-out", "outage_city", {"min_count": 6}, lambda: outage({"深圳": 3, "广州": 3, "东莞": 3}), []),
    ("outage-share", "outage_city", {"min_count": 6, "min_share": 0.8}, lambda: outage({"深圳": 7, "广州": 5}), []),
    ("outage-other-touchpoint", "outage_city", {"min_count": 6}, lambda: outage({"深圳": 9}, ("资费账单",)), []),
    ("flatline-fires", "flatline", {"max_silence_minutes": 60}, lambda: sources(health("weibo", silent_minutes=90)),
     [("weibo", "yellow")]),
    ("flatline-long", "flatline", {"max_silence_minutes": 60},
     lambda: sources(health("weibo", silent_minutes=300, healthy=False, reason="HTTP 418")), [("weibo", "red")]),
    ("flatline-never", "flatline", {"max_silence_minutes": 60},
     lambda: window([], sources=(health("zhihu", silent_minutes=None),),
                    source_since={"zhihu": NOW - timedelta(minutes=61)}), [("zhihu", "yellow")]),
    ("flatline-never-yet", "flatline", {"max_silence_minutes": 60},
     lambda: window([], sources=(health("zhihu", silent_minutes=None),),
                    source_since={"zhihu": NOW - timedelta(minutes=5)}), []),
    ("flatline-fresh", "flatline", {"max_silence_minutes": 60}, lambda: sources(health("weibo", silent_minutes=10)), []),
    ("flatline-per-source", "flatline", {"max_silence_minutes": 60, "per_source": {"zhidao": 600}},
     lambda: sources(health("zhidao", silent_minutes=300)), []),
    ("flatline-not-the-hot-lists", "flatline", {"max_silence_minutes": 60},
     lambda: window([], sources=(health("hotlist", silent_minutes=None),),
                    source_since={"hotlist": NOW - timedelta(minutes=600)}), []),
    ("hot-list-entered", "hot_list", {}, lambda: hot(track([28, 15, 6])), [("weibo:", "orange")]),
    ("hot-list-gone", "hot_list", {}, lambda: hot(track([2], status="gone")), []),  # more in test_hotrule.py
]


@pytest.mark.parametrize(("case", "type_name", "settings", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_table(case: str, type_name: str, settings: dict, make: Callable[[], Window],
                    expected: list[tuple[str, str]]) -> None:
    rule = build_rule(type_name, case, **settings)
    matches = rule.evaluate(make())
    got = [(m.key, m.severity) for m in matches]
    assert len(got) == len(expected), got
    for (key, severity), (want_key, want_severity) in zip(sorted(got), sorted(expected), strict=True):
        assert key.startswith(want_key) if want_key.endswith(":") else key == want_key
        assert severity == want_severity
    for m in matches:
        assert m.reason and m.title and m.rule == case and m.rule_type == type_name


def test_every_registered_type_has_a_case() -> None:
    assert {c[1] for c in CASES} == set(RULE_TYPES)


def test_spike_reason_names_counts_against_baseline() -> None:
    m = build_rule("volume_spike", "s", min_count=10, ratio=3).evaluate(spike(30, (4, 5, 6)))[0]
    assert "30 条" in m.reason and "5.0 条" in m.reason and "6.0 倍" in m.reason
    assert m.count == 30 and m.baseline == 5.0 and m.keywords[:2] == ("信号", "断网") and len(m.sample_keys) == 5
    assert m.scope["operators"] == ("中国移动",)  # filled in from the posts when the rule is open


def test_scope_filters_posts_and_names_the_match() -> None:
    rule = build_rule("escalation", "e", scope=Scope(operators=("中国联通",)), more_than=1)
    posts = [stored("找律师起诉", operators=("中国移动",)) for _ in range(3)]
    assert rule.evaluate(window(posts)) == []
    posts += [stored("联通乱收费 我要找律师", operators=("中国联通",)) for _ in range(2)]
    (m,) = rule.evaluate(window(posts))
    assert m.count == 2 and m.key == "中国联通" and "律师" in m.keywords and m.scope["operators"] == ("中国联通",)
    assert m.title == "中国联通出现升级投诉苗头"


def test_titles_read_naturally_with_and_without_scope() -> None:
    posts = [stored("找律师起诉") for _ in range(3)]
    (m,) = build_rule("escalation", "e", more_than=1).evaluate(window(posts))
    assert m.title == "出现升级投诉苗头（全部运营商）"
    (m,) = build_rule("volume_spike", "s", min_count=10, ratio=3).evaluate(spike(30, (4, 5, 6)))
    assert m.title == "负面声量激增（全部运营商）"
    (m,) = build_rule("negative_share", "n", threshold_pct=50, min_volume=10).evaluate(share(20, 15))
    assert m.title == "负面占比过高（全部运营商）"
    scoped = build_rule("volume_spike", "s", scope=Scope(operators=("中国移动",), regions=("深圳",)), min_count=10,
                        ratio=3)
    assert scoped.scope_title("负面声量激增") == "中国移动·深圳负面声量激增"


def test_outage_names_city_and_region_scope() -> None:
    (m,) = build_rule("outage_city", "o", min_count=6).evaluate(outage({"深圳": 7}))
    assert "广东深圳" in m.reason and m.scope["regions"] == ("广东", "深圳") and m.scope["operators"] == ("中国移动",)


def test_one_match_per_event_for_influential_posts() -> None:
    posts = [stored("电信乱收费", verified=True, event_id="e5") for _ in range(4)]
    (m,) = build_rule("influential", "i").evaluate(window(posts))
    assert m.key == "event:e5" and m.count == 4 and m.event_id == "e5"


def test_event_growth_reason_and_samples() -> None:
    (m,) = build_rule("event_growth", "g", min_count=10).evaluate(event_window(15, 2))
    assert "深圳移动大面积断网" in m.title and "15 条" in m.reason and "2 条" in m.reason and m.event_id == "e1"
    assert m.keywords == ("断网", "深圳") and m.sample_keys


def test_the_rule_types_are_the_vocabularys() -> None:
    """yuqing.vocab names every rule type (subscribers, the dashboard); alerts.rules registers exactly those."""
    from alerts.rules import RULE_TYPES
    from yuqing.vocab import RULE_TYPE_ZH

    assert set(RULE_TYPES) == set(RULE_TYPE_ZH)


@pytest.mark.parametrize(("in_outage", "in_other", "event"), [
    (23, 2, "ev_out"),  # more than half
    (18, 3, "ev_out"),  # 18 of 45: a third, and no other event has half as many
    (18, 10, ""),  # two events drive it
    (12, 0, ""),  # under a third
])
def test_a_surge_is_its_dominant_event_s(in_outage: int, in_other: int, event: str) -> None:
    posts = (negatives(in_outage, event_id="ev_out") + negatives(in_other, event_id="ev_other")
             + negatives(45 - in_outage - in_other))
    (m,) = build_rule("volume_spike", "s", min_count=10, ratio=3).evaluate(window(posts, baselines=(1, 1, 1)))
    assert m.event_id == event
