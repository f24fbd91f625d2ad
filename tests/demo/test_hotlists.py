"""The demo's hot lists: the four boards in their real shapes, the outage entering 微博热搜 and climbing it."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawlers.hotmatch import ours
from crawlers.parsers import PARSERS
from crawlers.watchlist import load_watchlist
from demo.scenario import ScenarioError, load_scenario
from demo.server import DemoSite

START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
W = load_watchlist()
BOARDS = {"weibo": "/ajax/side/hotSearch", "baidu": "/api/board?platform=wise&tab=realtime",
          "zhihu": "/api/v3/feed/topstory/hot-lists/total?limit=50&desktop=true",
          "douyin": "/aweme/v1/web/hot/search/list/?device_platform=webapp&aid=6383&detail_list=1"}


def board(site: DemoSite, name: str):
    response = site.respond("hotlist", BOARDS[name])
    assert response.status == 200
    return PARSERS[f"hotlist.{name}"](response.body, "https://demo" + BOARDS[name], now=site.clock())


def test_the_outage_enters_the_weibo_hot_list_and_climbs() -> None:
    now = [START]
    site = DemoSite(load_scenario(), start=START, clock=lambda: now[0])
    ranks = []
    for seconds in (0, 23, 25, 28, 31, 36, 60):  # speed 60: scenario minutes = real seconds
        now[0] = START + timedelta(seconds=seconds)
        result = board(site, "weibo")
        assert len([e for e in result.entries if not e.pinned]) == 30 and result.cursor["ads"] == 1
        ranks.append([(m.entry.rank, m.entry.label, m.operators) for m in ours(result.entries, W)])
    assert ranks[:2] == [[], []]
    climbing = [r[0][0] for r in ranks[2:]]
    assert climbing == [28, 15, 6, 2, 2] and ranks[-1][0][1:] == ("爆", ("中国电信",))
    assert ranks[2][0][1] == "新"


def test_all_four_boards_parse_and_only_the_outage_is_ours() -> None:
    site = DemoSite(load_scenario(), start=START, clock=lambda: START + timedelta(seconds=70))  # 70 scenario minutes
    found = {}
    for name in BOARDS:
        result = board(site, name)
        assert result.entries and result.rejected == []
        assert [e.rank for e in result.entries if not e.pinned] == list(range(1, 31))
        heats = [e.heat for e in result.entries if not e.pinned]
        assert heats == sorted(heats, reverse=True) and heats[-1] > 0
        found[name] = [m.entry.word for m in ours(result.entries, W)]
    assert found == {"weibo": ["郑州电信宽带大面积断网"], "baidu": ["郑州多区宽带断网"],
                     "zhihu": ["如何看待郑州电信宽带大面积断网？"], "douyin": ["郑州宽带大面积断网"]}


def test_the_hot_list_server_on_loopback(tmp_path: Path) -> None:
    with DemoSite(load_scenario()) as site:
        assert set(site.board_urls) == set(BOARDS) and len(set(site.board_urls.values())) == 1
        assert "hotlist" not in site.base_urls
        url = site.board_urls["douyin"] + BOARDS["douyin"]
        body = urllib.request.urlopen(url, timeout=10).read()
        assert PARSERS["hotlist.douyin"](body, url, now=datetime.now(UTC)).entries


def test_a_bad_hot_list_entry_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hotlists: {entries: [{board: toutiao, word: x, points: [{at: 1m, rank: 1}]}]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="hotlists.entries\\[0\\].*board"):
        load_scenario(bad)
