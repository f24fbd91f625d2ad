"""Hot lists: the entry record, which entries are ours (operators minus exclusions, watch words), and
`yuqing parse` printing one entry per line."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.hotmatch import match_entry, ours
from crawlers.parsers import PARSERS
from crawlers.watchlist import load_watchlist
from tests.conftest import FIXTURES, ROOT
from yuqing.records import HotEntry

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
W = load_watchlist()


def entry(word: str, **fields: object) -> HotEntry:
    values: dict[str, object] = {"board": "weibo", "word": word, "rank": 5, "fetched_at": NOW, **fields}
    return HotEntry(**values)  # type: ignore[arg-type]


def test_entry_record_checks_its_fields_and_keeps_time_in_utc() -> None:
    e = entry("郑州电信宽带大面积断网", fetched_at=datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8))))
    assert e.fetched_at == NOW and e.key == "weibo:郑州电信宽带大面积断网"
    for bad in ({"board": "toutiao"}, {"word": " "}, {"rank": -1}):
        with pytest.raises(ValueError):
            HotEntry(**{"board": "weibo", "word": "x", "rank": 1, **bad})  # type: ignore[arg-type]


@pytest.mark.parametrize(("word", "operators", "words"), [
    ("郑州电信宽带大面积断网", ("中国电信",), ("宽带", "断网")),
    ("中国移动回应套餐降速", ("中国移动",), ()),
    ("某地光缆被挖断多个小区断网", (), ("断网",)),
    ("携号转网新规12月起施行", (), ("携号转网",)),
])
def test_entries_that_are_ours(word: str, operators: tuple[str, ...], words: tuple[str, ...]) -> None:
    match = match_entry(entry(word), W)
    assert match is not None and match.operators == operators and match.words == words


@pytest.mark.parametrize("word", ["警方破获特大电信诈骗团伙", "国产大飞机交付第100架", "移动硬盘数据恢复", "初雪"])
def test_entries_that_are_not(word: str) -> None:
    assert match_entry(entry(word), W) is None


def test_a_baidu_description_counts_and_words_can_be_passed() -> None:
    e = HotEntry(board="baidu", word="郑州多区宽带断网", rank=2, extra={"desc": "郑州多个小区中国电信宽带无法上网"})
    match = match_entry(e, W, words=())
    assert match is not None and match.operators == ("中国电信",) and match.words == ()
    assert match_entry(entry("初雪纷飞"), W, words=["初雪"]) is not None


def test_ours_on_the_recorded_weibo_board_keeps_rank_order() -> None:
    body = (FIXTURES / "hotlist" / "weibo_hot_search_today.json").read_bytes()
    result = PARSERS["hotlist.weibo"](body, "https://weibo.com/ajax/side/hotSearch", now=NOW)
    assert [(m.entry.rank, m.entry.word) for m in ours(result.entries, W)] == [
        (2, "郑州电信宽带大面积断网"), (4, "中国移动回应套餐降速")]


def test_parse_prints_one_entry_per_line() -> None:
    path = FIXTURES / "hotlist" / "douyin_hot_list_today.json"
    proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "parse", str(path), "--now", NOW.isoformat()],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(e["board"], e["rank"], e["word"]) for e in lines] == [
        ("douyin", 1, "国产大飞机交付第100架"), ("douyin", 2, "郑州宽带大面积断网"), ("douyin", 3, "初雪")]
    assert lines[1]["heat"] == 9043110 and lines[1]["fetched_at"] == NOW.isoformat()
    assert "hotlist.douyin: 3 entries, 1 rejected" in proc.stderr
