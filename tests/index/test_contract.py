"""The PostIndex contract: every backend (tests/index/conftest.py: SQLite, the Elasticsearch stand-in, a real
Elasticsearch when YUQING_ES_URL is set) behaves the same on the whole protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.index import PostIndex, PostQuery
from yuqing.records import Analysis, Event, Post

from .conftest import SEARCH_CORPUS as CORPUS

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def mk(i: int, text: str = "", *, platform: str = "weibo", minutes: int | None = None, **kw: Any) -> Post:
    return Post(platform=platform, post_id=str(i), text=text or f"第{i}条 电信宽带", url=f"https://example.cn/{i}",
                published_at=NOW - timedelta(minutes=i if minutes is None else minutes), **kw)


def an(label: str = "negative", **kw: Any) -> Analysis:
    return Analysis(label=label, score={"negative": 0.1, "neutral": 0.5, "positive": 0.9}[label], **kw)


def ids(posts: list[Any]) -> set[str]:
    return {sp.post.post_id for sp in posts}


def test_implements_the_protocol(store: Any) -> None:
    assert isinstance(store, PostIndex)
    store.ping()


# --------------------------------------------------------------------------- posts
def test_upsert_twice_updates_never_duplicates(store: Any) -> None:
    posts = [(mk(i, likes=1), an()) for i in range(3)]
    first = store.upsert_posts(posts)
    assert (first.inserted, first.updated, first.failed) == (3, 0, 0)
    seen_first = store.get_post("weibo", "1").first_seen
    again = store.upsert_posts([(mk(i, likes=50), an("neutral")) for i in range(3)])
    assert (again.inserted, again.updated, again.failed) == (0, 3, 0)
    assert store.count_posts(PostQuery()) == 3
    got = store.get_post("weibo", "1")
    assert got.post.likes == 50 and got.label == "neutral"
    assert got.first_seen == seen_first
    assert sum(len(b) for b in store.iter_posts()) == 3


def test_same_post_id_on_two_platforms_is_two_posts(store: Any) -> None:
    store.upsert_posts([(mk(1), an()), (mk(1, platform="zhihu", kind="answer"), an())])
    assert store.count_posts(PostQuery()) == 2
    assert store.get_post("zhihu", "1").post.kind == "answer"


def test_update_without_analysis_keeps_the_analysis(store: Any) -> None:
    store.upsert_posts([(mk(1), an("negative", touchpoints=("宽带",)))])
    store.upsert_posts([(mk(1, likes=9), None)])
    got = store.get_post("weibo", "1")
    assert got.label == "negative" and got.post.likes == 9
    assert got.analysis is not None and got.analysis.touchpoints == ("宽带",)
    assert store.count_posts(PostQuery(touchpoints=("宽带",))) == 1


def test_get_post_round_trips_every_field(store: Any) -> None:
    post = Post(platform="heimao", post_id="17", text="宽带断网三天，要求退费", published_at=NOW, url="https://t.cn/17",
                kind="complaint", title="电信宽带故障", author_id="u1", author_name="小王", author_verified=True,
                author_followers=1200, reposts=3, comments=4, likes=5, parent_id="9", ip_region="广东",
                keyword="电信 断网", operators=("电信",), extra={"demands": ["退费"], "status": "处理中"},
                crawled_at=NOW + timedelta(seconds=5))
    analysis = Analysis(label="negative", score=0.05, model="m", model_version="1", touchpoints=("宽带",),
                        operators=("电信",), province="广东", city="广州", risk_flags=("escalation",),
                        influence=3.5, keywords=("断网", "退费"), event_id="e1", simhash=2**63 + 5,
                        analyzed_at=NOW + timedelta(seconds=6))
    assert store.get_post("heimao", "17") is None
    store.upsert_posts([(post, analysis)])
    got = store.get_post("heimao", "17")
    assert got.post == post
    assert got.analysis == analysis
    assert got.corrected_label == "" and got.label == "negative"
    assert got.first_seen is not None and got.first_seen.tzinfo is not None


def test_seen_ids(store: Any) -> None:
    store.upsert_posts([(mk(i), None) for i in range(5)])
    assert store.seen_ids("weibo", ["1", "3", "99"]) == {"1", "3"}
    assert store.seen_ids("zhihu", ["1"]) == set()
    assert store.seen_ids("weibo", []) == set()
    assert store.seen_ids("weibo", (str(i) for i in range(2000))) == {str(i) for i in range(5)}




@pytest.fixture
def corpus(store: Any) -> Any:
    store.upsert_posts([(mk(i, t), an()) for i, t in enumerate(CORPUS)])
    return store


@pytest.mark.parametrize("word", ["断网", "宽带", "携号转网", "电信宽带", "5G", "5G套餐", "iPhone", "光猫", "断",
                                  "光缆被挖断", "10000"])
def test_search_finds_every_post_containing_the_word(corpus: Any, word: str) -> None:
    expected = {str(i) for i, t in enumerate(CORPUS) if word.lower() in t.lower()}
    assert expected
    assert ids(corpus.search_posts(PostQuery(text=word), limit=100)) == expected
    assert corpus.count_posts(PostQuery(text=word)) == len(expected)


def test_search_of_several_words_needs_all_of_them(corpus: Any) -> None:
    expected = {str(i) for i, t in enumerate(CORPUS) if "宽带" in t and "断网" in t}
    assert ids(corpus.search_posts(PostQuery(text="宽带 断网"), limit=100)) == expected
    assert ids(corpus.search_posts(PostQuery(text="携号转网 移动"), limit=100)) == {"8"}
    assert corpus.search_posts(PostQuery(text="停电"), limit=100) == []


def test_search_also_looks_in_the_title(store: Any) -> None:
    store.upsert_posts([(mk(1, "要求赔偿", title="宽带断网七天"), an()), (mk(2, "要求赔偿"), an())])
    assert ids(store.search_posts(PostQuery(text="断网"))) == {"1"}


def test_search_orders_and_pages(corpus: Any) -> None:
    newest = corpus.search_posts(PostQuery(), limit=100)
    assert [sp.post.published_at for sp in newest] == sorted((sp.post.published_at for sp in newest), reverse=True)
    oldest = corpus.search_posts(PostQuery(), limit=100, order="published_at_asc")
    assert [sp.post.post_id for sp in oldest] == [sp.post.post_id for sp in reversed(newest)]
    pages = [corpus.search_posts(PostQuery(), limit=5, offset=o) for o in (0, 5, 10)]
    assert [sp.post.post_id for page in pages for sp in page] == [sp.post.post_id for sp in newest]
    relevant = corpus.search_posts(PostQuery(text="宽带"), limit=100, order="relevance")
    assert ids(relevant) == {str(i) for i, t in enumerate(CORPUS) if "宽带" in t}
    with pytest.raises(ValueError):
        corpus.search_posts(PostQuery(), order="sideways")


def test_influence_order(store: Any) -> None:
    store.upsert_posts([(mk(i), an(influence=float(v))) for i, v in enumerate([3, 9, 1, 5])])
    got = store.search_posts(PostQuery(), order="influence_desc")
    assert [sp.post.post_id for sp in got] == ["1", "3", "0", "2"]


@pytest.fixture
def tagged(store: Any) -> Any:
    rows = [
        (mk(0, platform="weibo", minutes=10), an("negative", operators=("电信",), touchpoints=("宽带",), province="广东",
                                                   city="广州", risk_flags=("churn",), influence=5.0, event_id="e1",
                                                   keywords=("断网",))),
        (mk(1, platform="zhihu", kind="answer", minutes=70), an("neutral", operators=("联通",), touchpoints=("资费",),
                                                                province="北京", city="北京", influence=1.0)),
        (mk(2, platform="heimao", kind="complaint", minutes=130),
         an("negative", operators=("电信", "移动"), touchpoints=("宽带", "客服"), province="广东", city="深圳",
            risk_flags=("escalation", "churn"), influence=9.0, event_id="e1", keywords=("断网", "投诉"))),
        (mk(3, platform="weibo", minutes=200), an("positive", operators=("移动",), touchpoints=("5G",), province="上海",
                                                    city="上海", influence=0.5)),
        (mk(4, platform="weibo", minutes=20, operators=("电信",)), None),  # not analysed yet
    ]
    store.upsert_posts(rows)
    return store


@pytest.mark.parametrize(("query", "expected"), [
    (PostQuery(), {"0", "1", "2", "3", "4"}),
    (PostQuery(platforms=("weibo",)), {"0", "3", "4"}),
    (PostQuery(platforms=("weibo", "zhihu")), {"0", "1", "3", "4"}),
    (PostQuery(operators=("电信",)), {"0", "2", "4"}),
    (PostQuery(operators=("移动",)), {"2", "3"}),
    (PostQuery(touchpoints=("宽带",)), {"0", "2"}),
    (PostQuery(provinces=("广东",)), {"0", "2"}),
    (PostQuery(cities=("深圳", "上海")), {"2", "3"}),
    (PostQuery(labels=("negative",)), {"0", "2"}),
    (PostQuery(labels=("neutral", "positive")), {"1", "3"}),
    (PostQuery(risk_flags=("churn",)), {"0", "2"}),
    (PostQuery(kinds=("complaint", "answer")), {"1", "2"}),
    (PostQuery(event_id="e1"), {"0", "2"}),
    (PostQuery(min_influence=5.0), {"0", "2"}),
    (PostQuery(keys=("weibo:0", "heimao:2", "weibo:99")), {"0", "2"}),
    (PostQuery(since=NOW - timedelta(minutes=70)), {"0", "1", "4"}),  # since is inclusive
    (PostQuery(until=NOW - timedelta(minutes=70)), {"2", "3"}),  # until is exclusive
    (PostQuery(since=NOW - timedelta(minutes=150), until=NOW - timedelta(minutes=15)), {"1", "2", "4"}),
    (PostQuery(platforms=("weibo",), labels=("negative",), operators=("电信",)), {"0"}),
])
def test_filters(tagged: Any, query: PostQuery, expected: set[str]) -> None:
    assert ids(tagged.search_posts(query, limit=100)) == expected
    assert tagged.count_posts(query) == len(expected)


def test_volume_buckets_by_label_platform_operator(tagged: Any) -> None:
    hour = 3600
    start = NOW - timedelta(hours=4)

    def volume(by: str) -> dict[tuple[datetime, str], int]:
        got = tagged.volume(PostQuery(since=start), bucket_seconds=hour, by=by)
        for b in got:
            assert b.start.tzinfo is not None and b.start.timestamp() % hour == 0  # UTC-aligned buckets
        return {(b.start, b.key): b.count for b in got}

    h = [NOW - timedelta(hours=k) for k in range(5)]  # NOW is on the hour
    assert volume("label") == {(h[1], "negative"): 1, (h[1], ""): 1, (h[2], "neutral"): 1, (h[3], "negative"): 1,
                               (h[4], "positive"): 1}
    assert volume("platform") == {(h[1], "weibo"): 2, (h[2], "zhihu"): 1, (h[3], "heimao"): 1, (h[4], "weibo"): 1}
    assert volume("operator") == {(h[1], "电信"): 2, (h[2], "联通"): 1, (h[3], "电信"): 1, (h[3], "移动"): 1,
                                  (h[4], "移动"): 1}
    assert volume("touchpoint") == {(h[1], "宽带"): 1, (h[2], "资费"): 1, (h[3], "宽带"): 1, (h[3], "客服"): 1,
                                    (h[4], "5G"): 1}
    assert sum(b.count for b in tagged.volume(PostQuery(labels=("negative",)), bucket_seconds=86400)) == 2


def test_facets(tagged: Any) -> None:
    q = PostQuery()
    assert tagged.facet(q, "label") == {"negative": 2, "neutral": 1, "positive": 1}
    assert tagged.facet(q, "platform") == {"weibo": 3, "zhihu": 1, "heimao": 1}
    assert tagged.facet(q, "operator") == {"电信": 3, "移动": 2, "联通": 1}
    assert tagged.facet(q, "touchpoint") == {"宽带": 2, "资费": 1, "客服": 1, "5G": 1}
    assert tagged.facet(q, "province") == {"广东": 2, "北京": 1, "上海": 1}
    assert tagged.facet(q, "city", size=2) == {"上海": 1, "北京": 1}  # ties by name
    assert tagged.facet(q, "kind") == {"post": 3, "answer": 1, "complaint": 1}
    assert tagged.facet(q, "keyword") == {"断网": 2, "投诉": 1}
    assert tagged.facet(q, "event_id") == {"e1": 2}
    assert tagged.facet(q, "risk_flag") == {"churn": 2, "escalation": 1}
    assert tagged.facet(PostQuery(platforms=("weibo",)), "operator") == {"电信": 2, "移动": 1}
    with pytest.raises(ValueError):
        tagged.facet(q, "colour")


def test_iter_posts_in_key_order_and_resumes(store: Any) -> None:
    store.upsert_posts([(mk(i), None) for i in range(25)] + [(mk(i, platform="zhihu"), None) for i in range(5)])
    batches = list(store.iter_posts(batch=7))
    keys = [sp.post.key for b in batches for sp in b]
    assert len(keys) == 30 and keys == sorted(keys) and len(set(keys)) == 30
    assert all(len(b) <= 7 for b in batches)
    after = keys[11]
    rest = [sp.post.key for b in store.iter_posts(after=after, batch=4) for sp in b]
    assert rest == keys[12:]
    assert list(store.iter_posts(after=keys[-1])) == []


def test_corrections_win_over_model_labels(tagged: Any) -> None:
    tagged.correct_label("weibo", "0", "positive", by="alice")
    got = tagged.get_post("weibo", "0")
    assert got.label == "positive" and got.corrected_label == "positive" and got.analysis.label == "negative"
    assert ids(tagged.search_posts(PostQuery(labels=("positive",)))) == {"0", "3"}
    assert tagged.facet(PostQuery(), "label")["positive"] == 2
    assert sum(b.count for b in tagged.volume(PostQuery(), bucket_seconds=86400, by="label")
               if b.key == "negative") == 1
    # a re-crawl with a fresh model label keeps the human one
    tagged.upsert_posts([(mk(0, platform="weibo", minutes=10), an("negative"))])
    assert tagged.get_post("weibo", "0").label == "positive"
    assert tagged.count_posts(PostQuery(labels=("positive",))) == 2
    rows = tagged.list_corrections()
    assert [(r["platform"], r["post_id"], r["label"], r["by"], r["model_label"]) for r in rows] == [
        ("weibo", "0", "positive", "alice", "negative")]
    assert rows[0]["at"].tzinfo is not None
    tagged.correct_label("weibo", "0", "", by="alice")  # "" removes the correction
    assert tagged.get_post("weibo", "0").label == "negative"
    assert tagged.list_corrections() == []
    with pytest.raises(KeyError):
        tagged.correct_label("weibo", "404", "neutral", by="alice")
    with pytest.raises(ValueError):
        tagged.correct_label("weibo", "0", "angry", by="alice")


# --------------------------------------------------------------------------- events
def test_events(store: Any) -> None:
    e1 = Event("e1", "宽带断网", NOW - timedelta(hours=3), NOW - timedelta(hours=1), size=5, negative=4,
               keywords=("断网",), operators=("电信",), touchpoints=("宽带",), simhash=2**64 - 1, sample_key="weibo:1")
    e2 = Event("e2", "携号转网被拒", NOW - timedelta(days=2), NOW - timedelta(days=2), size=9)
    store.upsert_events([e1, e2])
    assert store.get_event("e1") == e1
    assert store.get_event("nope") is None
    assert [e.event_id for e in store.list_events()] == ["e2", "e1"]
    assert [e.event_id for e in store.list_events(order="last_seen_desc")] == ["e1", "e2"]
    assert [e.event_id for e in store.list_events(since=NOW - timedelta(days=1))] == ["e1"]
    assert len(store.list_events(limit=1)) == 1
    grown = Event("e1", "宽带断网", e1.first_seen, NOW, size=12, negative=10)
    store.upsert_events([grown])
    assert store.get_event("e1") == grown
    assert [e.event_id for e in store.list_events()] == ["e1", "e2"]


def test_merging_events_moves_their_posts_and_deletes_them(store: Any) -> None:
    """One outage told apart by two crawls: the older event takes the other's posts; merging again changes nothing."""
    a = Event("ev_a", "郑州断网", NOW - timedelta(hours=2), NOW - timedelta(hours=1), size=2, keywords=("断网",))
    b = Event("ev_b", "郑州断网", NOW - timedelta(minutes=90), NOW, size=3, keywords=("断网",))
    other = Event("ev_c", "携号转网", NOW - timedelta(hours=1), NOW, size=2)
    store.upsert_events([a, b, other])
    store.upsert_posts([(mk(1), an(event_id="ev_a")), (mk(2), an(event_id="ev_a")), (mk(3), an(event_id="ev_b")),
                        (mk(4), an(event_id="ev_b")), (mk(5), an(event_id="ev_b")), (mk(6), an(event_id="ev_c"))])
    merged = Event("ev_a", "郑州断网", a.first_seen, b.last_seen, size=5, keywords=("断网",))
    assert store.merge_events(merged, ["ev_b"]) == 3
    assert store.get_event("ev_b") is None
    assert store.get_event("ev_a") == merged
    assert ids(store.search_posts(PostQuery(event_id="ev_a"))) == {"1", "2", "3", "4", "5"}
    assert ids(store.search_posts(PostQuery(event_id="ev_c"))) == {"6"}
    assert store.get_post("weibo", "4").analysis.event_id == "ev_a"
    assert sorted(e.event_id for e in store.list_events()) == ["ev_a", "ev_c"]
    assert store.merge_events(merged, ["ev_b"]) == 0
    assert store.get_event("ev_a") == merged
