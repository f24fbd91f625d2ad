"""Tieba and Bilibili against the demo site as the scenario unfolds: each run fetches only what changed.

Run 1 sees the history, run 2 the start of the outage, run 3 its rest: Tieba reads a changed thread from its
last page read and leaves unchanged threads alone; Bilibili reads a video's comments back to the newest one it
had. Run 4, with nothing new, fetches no thread page and no comment page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.scenario import load_scenario
from demo.server import DemoSite
from tests.crawlers.test_e2e_crawl import ROOT, child_env, crawl_all, key_of, stored_keys, write_config
from yuqing.config import load_settings
from yuqing.wiring import open_ops, open_stores

pytestmark = pytest.mark.slow
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
SOURCES = ("tieba", "bilibili")


def fetched(site: DemoSite, before: Counter[tuple[str, str]], prefix: str) -> list[str]:
    """Requests (path?query, signature left out) of this run starting with `prefix`."""
    return sorted(path for (_, path), n in (site.paths - before).items() if path.startswith(prefix) for _ in range(n))


def test_each_run_fetches_only_what_changed(tmp_path: Path) -> None:
    now = [START + timedelta(seconds=10)]  # speed 60: 10 scenario minutes, before the outage
    with DemoSite(load_scenario(), start=START, clock=lambda: now[0]) as site:
        config = write_config(tmp_path, site.base_urls)
        open_stores(load_settings(config)).close()
        mine = [p for p in site.posts if p.platform in SOURCES]

        def visible(source: str = "") -> set[str]:
            return {key_of(p) for p in mine if p.at <= now[0] and p.platform.startswith(source)}

        first = crawl_all(config, SOURCES)
        assert set(stored_keys(config)) == visible()
        assert (first["tieba"]["posts_new"], first["bilibili"]["posts_new"]) == (5, 3)  # 2 threads, 3 floors; a video
        seen = {s: visible(s) for s in SOURCES}

        now[0] = START + timedelta(seconds=26)  # the outage has begun: a new thread and video, their first replies
        before = Counter(site.paths)
        second = crawl_all(config, SOURCES)
        assert set(stored_keys(config)) == visible()
        assert fetched(site, before, "/p/92800") == []  # yesterday's threads are unchanged
        assert fetched(site, before, "/p/9288000001") == ["/p/9288000001", "/p/9288000001?pn=2"]
        assert {s: second[s]["posts_new"] for s in SOURCES} == {s: len(visible(s) - seen[s]) for s in SOURCES}
        assert second["tieba"]["posts_new"] > 0 and second["bilibili"]["posts_new"] > 0
        seen = {s: visible(s) for s in SOURCES}

        now[0] = START + timedelta(seconds=60)  # the rest of the outage and a new video
        before = Counter(site.paths)
        third = crawl_all(config, SOURCES)
        assert set(stored_keys(config)) == visible() == {key_of(p) for p in mine}
        # the thread grew by one floor and a floor reply: read on from page 2 only; a new thread in 中国电信吧
        assert fetched(site, before, "/p/9288000001") == ["/p/9288000001?pn=2"]
        assert fetched(site, before, "/p/9288000002") == ["/p/9288000002"]
        crisis_comments = fetched(site, before, "/x/v2/reply/wbi/main?oid=113563000000001")
        assert len(crisis_comments) == 2  # newest first, back to the newest comment already read
        assert fetched(site, before, "/x/v2/reply/wbi/main?oid=113500000000001") == []
        assert {s: third[s]["posts_new"] for s in SOURCES} == {s: len(visible(s) - seen[s]) for s in SOURCES}

        before = Counter(site.paths)
        fourth = crawl_all(config, SOURCES)
        assert all(r["posts_new"] == 0 and r["healthy"] for r in fourth.values()), fourth
        assert fetched(site, before, "/p/") == [] and fetched(site, before, "/x/v2/reply") == []
        assert len(stored_keys(config)) == len(set(stored_keys(config))) == len(mine)

        ops = open_ops(load_settings(config))
        try:
            health = {h.source: h for h in ops.source_health()}
            assert all(health[s].runs == 4 and health[s].healthy and health[s].last_success_at for s in SOURCES)
            assert health["tieba"].posts_new == len([p for p in mine if p.platform == "tieba"])
        finally:
            ops.close()
        shown = subprocess.run([sys.executable, "-m", "yuqing.cli", "sources", "--json"], cwd=ROOT, env=child_env(config),
                               capture_output=True, text=True, timeout=120)
        rows = {r["source"]: r for r in map(json.loads, shown.stdout.splitlines())}
        assert set(rows) == set(SOURCES) and all(rows[s]["healthy"] and rows[s]["runs"] == 4 for s in SOURCES)
        assert rows["bilibili"]["posts_new"] == len([p for p in mine if p.platform == "bilibili"])
