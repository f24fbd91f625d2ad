"""The hot-list poll job against the demo site over loopback HTTP: each poll stores the watched entries' rank and
heat, marks them new, rising, falling or gone, starts the Weibo search for a new entry's words at once, and shows
in source health; a board that cannot be read is not recorded and makes the run unhealthy."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from crawlers.schedule import run_hotlist_job
from demo.scenario import load_scenario
from demo.server import DemoSite
from tests.crawlers.test_e2e_crawl import write_config
from yuqing.config import load_settings
from yuqing.wiring import open_ops, open_stores

pytestmark = pytest.mark.slow
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
OUTAGE = "郑州电信宽带大面积断网"


def searched(site: DemoSite, before: Counter[tuple[str, str]]) -> list[str]:
    """The Weibo search words requested since `before`."""
    return sorted({unquote(path).split("q=", 1)[1].split("&", 1)[0] for (platform, path), _ in
                   (site.paths - before).items() if platform == "weibo" and "q=" in unquote(path)})


def test_polls_track_the_outage_and_search_for_it_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [START + timedelta(seconds=10)]  # speed 60: scenario minute 10, nothing of ours on any board
    with DemoSite(load_scenario(), start=START, clock=lambda: now[0]) as site:
        config = write_config(tmp_path, {"weibo": site.base_urls["weibo"],
                                         "hotlist": site.board_urls["weibo"]})
        for key in [k for k in os.environ if k.startswith("YUQING_")]:
            monkeypatch.delenv(key)
        settings = load_settings(config)
        open_stores(settings).close()

        first = run_hotlist_job(str(config))
        assert first["healthy"] and first["pages"] == 4 and "searched" not in first, first
        assert first["hot"]["entries"] == 31 + 3 * 30 and first["hot"].get("watched", 0) == 0  # Weibo pins one
        assert site.requests["hotlist"] >= 4

        now[0] = START + timedelta(seconds=25)  # the outage enters 微博热搜 at #28
        before = Counter(site.paths)
        second = run_hotlist_job(str(config))
        assert second["hot"]["new"] == 1 and second["searched"]["words"] == [OUTAGE], second
        assert searched(site, before) == [OUTAGE]  # the post search for its words, started by the same job

        now[0] = START + timedelta(seconds=29)  # #15 on Weibo; 百度热搜 picks it up
        before = Counter(site.paths)
        third = run_hotlist_job(str(config))
        assert (third["hot"]["rising"], third["hot"]["new"]) == (1, 1)
        assert searched(site, before) == ["郑州多区宽带断网"]  # only the new entry is searched for

        now[0] = START + timedelta(seconds=45)  # #2 on Weibo; Zhihu and Douyin too
        run_hotlist_job(str(config))
        now[0] = START + timedelta(seconds=125)  # the Weibo entry has left the list (until: 2h)
        before = Counter(site.paths)
        last = run_hotlist_job(str(config))
        assert last["hot"]["gone"] == 1 and searched(site, before) == []

        ops = open_ops(load_settings(config))
        try:
            tracks = {t.board: t for t in ops.list_hot_tracks(with_ranks=True)}
            weibo = tracks["weibo"]
            assert (weibo.word, weibo.status, weibo.best_rank, weibo.operators) == (OUTAGE, "gone", 2, ("中国电信",))
            assert [r for _, r, _ in weibo.ranks] == [28, 15, 2]
            assert weibo.ranks[-1][2] > weibo.ranks[0][2] > 0  # heat grows as it climbs
            assert weibo.last_seen == weibo.ranks[-1][0] and weibo.searched_at is not None  # its last time on the list
            assert set(tracks) == {"weibo", "baidu", "zhihu", "douyin"}
            assert ops.hot_tracks_to_search() == []
            health = {h.source: h for h in ops.source_health()}
            assert health["hotlist"].runs == 5 and health["hotlist"].healthy and health["hotlist"].pages == 20
        finally:
            ops.close()


def test_a_board_that_cannot_be_read_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [START + timedelta(seconds=40)]
    with DemoSite(load_scenario(), start=START, clock=lambda: now[0]) as site:
        config = write_config(tmp_path, {"hotlist": site.board_urls["weibo"], "weibo": site.base_urls["weibo"]})
        for key in [k for k in os.environ if k.startswith("YUQING_")]:
            monkeypatch.delenv(key)
        open_stores(load_settings(config)).close()
        assert run_hotlist_job(str(config))["healthy"]
        real = site.respond

        def broken(platform: str, raw_path: str):  # 微博热搜 answers with a changed layout from now on
            resp = real(platform, raw_path)
            if platform == "hotlist" and raw_path.startswith("/ajax/side/hotSearch"):
                return type(resp)(200, b'{"ok":1,"data":{"band_list":[]}}', resp.content_type)
            return resp

        monkeypatch.setattr(site, "respond", broken)
        now[0] = START + timedelta(seconds=50)
        run = run_hotlist_job(str(config))
        assert not run["healthy"] and "weibo unreadable" in run["reason"] and run["errors"]["parse"] >= 1, run
        assert run["pages"] == 3 and run["rejected"] == 1
        ops = open_ops(load_settings(config))
        try:
            statuses = {t.board: t.status for t in ops.list_hot_tracks()}
            assert statuses["weibo"] != "gone"  # a failed poll never marks the board's entries gone
            assert {h.source: h for h in ops.source_health()}["hotlist"].healthy is False
        finally:
            ops.close()
