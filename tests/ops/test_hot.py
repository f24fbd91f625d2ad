"""The OpsDB's hot-list tracks on SQLite and a real PostgreSQL: polls recorded with rank and heat, statuses new,
rising, steady, falling and gone, the rank history, crawl-on-match bookkeeping, and the migration step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tests.ops.conftest import BACKENDS, make_ops
from yuqing.ops.hot import next_status
from yuqing.ops.migrations import LATEST
from yuqing.records import HotTrack

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def seen(word: str, rank: int, heat: int = 1000, board: str = "weibo", **kw: Any) -> HotTrack:
    return HotTrack(board=board, word=word, first_seen=NOW, last_seen=NOW, rank=rank, best_rank=rank, heat=heat,
                    operators=kw.pop("operators", ("中国电信",)), words=kw.pop("words", ("断网",)), **kw)


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_polls_make_tracks_with_statuses_and_rank_history(ops: Any) -> None:
    first = ops.record_hot_poll("weibo", at(0), [seen("郑州电信断网", 28, 1000, label="新", url="https://s.weibo.com/a")])
    assert [(t.word, t.status, t.rank, t.best_rank) for t in first] == [("郑州电信断网", "new", 28, 28)]
    assert first[0].track_id is not None and first[0].first_seen == at(0)
    ops.record_hot_poll("baidu", at(0), [seen("郑州多区宽带断网", 20, board="baidu")])  # another board: untouched below
    second = ops.record_hot_poll("weibo", at(5), [seen("郑州电信断网", 15, 2000), seen("移动5G套餐降价", 40, words=())])
    assert {t.word: t.status for t in second} == {"郑州电信断网": "rising", "移动5G套餐降价": "new"}
    ops.record_hot_poll("weibo", at(10), [seen("郑州电信断网", 15, 2100), seen("移动5G套餐降价", 45)])
    tracks = {t.word: t for t in ops.list_hot_tracks(boards=("weibo",))}
    assert (tracks["郑州电信断网"].status, tracks["移动5G套餐降价"].status) == ("steady", "falling")
    assert tracks["移动5G套餐降价"].best_rank == 40 and tracks["移动5G套餐降价"].rank == 45
    # the outage climbs to #2; the other entry leaves the list
    last = ops.record_hot_poll("weibo", at(15), [seen("郑州电信断网", 2, 9000, label="爆")])
    assert {t.word: t.status for t in last} == {"郑州电信断网": "rising", "移动5G套餐降价": "gone"}
    track = ops.list_hot_tracks(boards=("weibo",), statuses=("rising",), with_ranks=True)[0]
    assert (track.word, track.rank, track.best_rank, track.heat, track.label) == ("郑州电信断网", 2, 2, 9000, "爆")
    assert (track.first_seen, track.last_seen, track.operators, track.words) == (at(0), at(15), ("中国电信",), ("断网",))
    assert track.ranks == ((at(0), 28, 1000), (at(5), 15, 2000), (at(10), 15, 2100), (at(15), 2, 9000))
    assert [r[1] for r in ops.list_hot_tracks(since=at(10), with_ranks=True, boards=("weibo",))[0].ranks] == [15, 2]
    assert [t.word for t in ops.list_hot_tracks(since=at(12))] == ["郑州电信断网"]  # last seen at or after
    gone = ops.list_hot_tracks(statuses=("gone",))
    assert [(t.word, t.last_seen) for t in gone] == [("移动5G套餐降价", at(10))]  # last time on the list kept
    assert ops.list_hot_tracks(boards=("baidu",))[0].status == "new"  # a poll of weibo never marks baidu gone
    # back on the list: new again, first seen unchanged
    back = ops.record_hot_poll("weibo", at(20), [seen("郑州电信断网", 3), seen("移动5G套餐降价", 30)])
    assert {t.word: t.status for t in back} == {"郑州电信断网": "falling", "移动5G套餐降价": "new"}
    again = {t.word: t for t in ops.list_hot_tracks()}["移动5G套餐降价"]
    assert (again.first_seen, again.best_rank) == (at(5), 30)


def test_an_empty_poll_marks_every_listed_entry_gone(ops: Any) -> None:
    ops.record_hot_poll("zhihu", at(0), [seen("如何看待郑州电信断网？", 8, board="zhihu")])
    assert [t.status for t in ops.record_hot_poll("zhihu", at(5), [])] == ["gone"]
    assert ops.record_hot_poll("zhihu", at(10), []) == []  # nothing left to mark


def test_crawl_on_match_bookkeeping(ops: Any) -> None:
    ops.record_hot_poll("weibo", at(0), [seen("郑州电信断网", 28), seen("联通携号转网", 30)])
    pending = ops.hot_tracks_to_search()
    assert [t.word for t in pending] == ["郑州电信断网", "联通携号转网"]
    ops.mark_hot_searched([pending[0].track_id], at(1))
    assert [t.word for t in ops.hot_tracks_to_search()] == ["联通携号转网"]
    assert {t.word: t.searched_at for t in ops.list_hot_tracks()}["郑州电信断网"] == at(1)
    ops.record_hot_poll("weibo", at(5), [seen("郑州电信断网", 20)])  # the other one left: not searched any more
    assert ops.hot_tracks_to_search() == []
    ops.record_hot_poll("weibo", at(10), [])
    ops.record_hot_poll("weibo", at(15), [seen("郑州电信断网", 10)])  # back: searched again
    assert [t.word for t in ops.hot_tracks_to_search(limit=5)] == ["郑州电信断网"]
    ops.mark_hot_searched([], at(16))  # nothing to mark is fine


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_at_version_11_gets_the_hot_tables(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    ops = make_ops(backend, tmp_path, request)
    with ops.engine.begin() as conn:  # as a database of the release before: chat channels, no hot tables
        conn.execute(text("DROP TABLE hot_ranks"))
        conn.execute(text("DROP TABLE hot_tracks"))
        conn.execute(text("UPDATE schema_version SET version = 11 WHERE component = 'ops'"))
    ops.close()
    ops = make_ops(backend, tmp_path, request)
    try:
        assert ops.upgraded_from == 11 and f"schema {LATEST}" in ops.describe()
        assert {"hot_tracks", "hot_ranks"} <= set(inspect(ops.engine).get_table_names())
        assert ops.record_hot_poll("douyin", NOW, [seen("郑州宽带大面积断网", 4, board="douyin")])[0].status == "new"
    finally:
        ops.close()


@pytest.mark.parametrize(("before", "rank", "status"), [
    (None, 30, "new"), ("gone", 5, "new"), ("new", 10, "rising"), ("steady", 12, "falling"), ("rising", 11, "steady"),
])
def test_next_status(before: str | None, rank: int, status: str) -> None:
    prior = None if before is None else seen("x", 11, status=before)
    assert next_status(prior, rank) == status
