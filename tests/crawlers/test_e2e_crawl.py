"""End to end over loopback: the demo site (with faults) -> `python -m crawlers.runner` per platform -> SQLite
(all six sources, Tieba's bars and threads and Bilibili's signed search and comments included).

Every scripted post a search can find is stored exactly once, a second run stores nothing new,
and a crawl killed half-way resumes with nothing lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawlers.watchlist import load_watchlist
from demo.model import DemoPost
from demo.platforms.weibo import plain
from demo.scenario import Faults, Scenario, load_scenario
from demo.server import DemoSite
from tests.conftest import Both
from yuqing.config import load_settings
from yuqing.index import PostQuery
from yuqing.wiring import open_stores

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)  # every scripted post is out
FAULTS = Faults({"http_418": 0.04, "http_432": 0.04, "http_500": 0.05, "slow": 0.03, "truncated": 0.05,
                 "layout": 0.03}, slow_seconds=0.3, max_per_url=1, seed=7)
SCRAPY = ["--set", "YUQING_BACKOFF_BASE_SECONDS=0.05", "--set", "YUQING_WEIBO_PAGE_CAP=3",
          "--set", "YUQING_HOTFLOW_MIN_COMMENTS=200", "--set", "LOG_LEVEL=INFO"]


def scenario(faults: Faults) -> Scenario:
    s = load_scenario().with_faults(faults)
    s.options["weibo"] = {"page_size": 10, "page_cap": 3}  # small cap: the crawler must split time windows
    return s


def write_config(tmp_path: Path, urls: dict[str, str]) -> Path:
    lines = ["[store]", f'path = "{tmp_path / "yuqing.db"}"', "[crawl]", f'jobstore = "{tmp_path / "var" / "s.db"}"',
             "max_pages = 50", "autothrottle = false", "download_delay = 0", "concurrent_per_domain = 8",
             *(f'{p}_base_url = "{u}"' for p, u in urls.items())]
    path = tmp_path / "yuqing.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    return {**env, "YUQING_CONFIG": str(config)}


ALL = ("weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili")


def crawl_all(config: Path, sources: tuple[str, ...] = ALL) -> dict[str, Any]:
    procs = {s: subprocess.Popen([sys.executable, "-m", "crawlers.runner", s, *SCRAPY], cwd=ROOT, env=child_env(config),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in sources}
    out = {}
    for source, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{source} crawl failed ({proc.returncode}):\n{stderr[-4000:]}"
        out[source] = json.loads(stdout.strip().splitlines()[-1])
    return out


def findable(site: DemoSite) -> set[str]:
    """Store keys of the scripted posts a watchlist search reaches, as the parsers key them."""
    watch = load_watchlist()
    keys: set[str] = set()
    posts = site.posts
    by_id = {(p.platform, p.post_id): p for p in posts}
    for p in posts:
        if p.platform == "weibo" and p.kind == "post":
            text = plain(p)
            if any(all(w in text for w in k.split()) for k in watch.keywords_for("weibo")) and watch.match(text):
                keys.add(f"weibo:{p.post_id}")
        elif p.platform == "weibo" and p.kind == "comment":
            parent = by_id[("weibo", p.parent_id)]
            if parent.comments >= 200:
                keys.add(f"weibo:{p.post_id}")
        else:
            keys.add(key_of(p))
    return keys


def key_of(p: DemoPost) -> str:
    if p.platform in ("zhidao",) and p.kind == "question":
        return f"zhidao:q{p.post_id}"
    if p.platform == "tieba" and p.kind == "post":
        return f"tieba:t{p.post_id}"
    if p.platform == "bilibili" and p.kind == "post":
        return f"bilibili:av{p.post_id}"
    return f"{p.platform}:{p.post_id}"


def stored_keys(config: Path) -> list[str]:
    store = Both(*open_stores(load_settings(config)))
    try:
        return [sp.post.key for batch in store.iter_posts() for sp in batch]
    finally:
        store.close()


def test_all_platforms_with_faults_every_scripted_post_once(tmp_path: Path) -> None:
    with DemoSite(scenario(FAULTS), start=START) as site:
        config = write_config(tmp_path, site.base_urls)
        Both(*open_stores(load_settings(config))).close()  # as `yuqing run` does: migrate once, then start the crawls
        first = crawl_all(config)
        injected = dict(site.faults.injected)
        keys = stored_keys(config)
        expected = findable(site)
        assert len(keys) == len(set(keys)), "a post stored twice"
        missing = expected - set(keys)
        assert not missing, f"scripted posts not stored: {sorted(missing)}"
        scripted = {key_of(p) for p in site.posts} | {f"zhihu:q{p.extra.get('question_id', '')}" for p in site.posts
                                                      if p.platform == "zhihu"}
        assert set(keys) <= scripted, f"stored posts that are not in the scenario: {sorted(set(keys) - scripted)}"
        assert sum(injected.values()) >= 5 and {"http_418", "http_432", "truncated"} & set(injected)
        assert all(r["healthy"] for r in first.values()), first
        errors: dict[str, int] = {}
        for r in first.values():
            for kind, n in r["errors"].items():
                errors[kind] = errors.get(kind, 0) + n
        assert errors, "the faults show up in the run's error counts"
        assert first["weibo"]["pages"] > 10
        assert first["weibo"]["splits"] > 0, "the 3-page cap was beaten by splitting the time window"

        second = crawl_all(config)
        assert sorted(stored_keys(config)) == sorted(keys)
        assert all(r["posts_new"] == 0 for r in second.values()), second

        store = Both(*open_stores(load_settings(config)))
        try:
            health = {h.source: h for h in store.source_health()}
            assert set(health) == set(ALL)
            assert all(h.runs == 2 and h.healthy and h.last_success_at for h in health.values())
            assert store.count_posts(PostQuery(platforms=("weibo",))) == sum(k.startswith("weibo:") for k in keys)
        finally:
            store.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_crawl_killed_half_way_resumes_with_nothing_lost(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM (the scheduler's timeout) stops cleanly and the next run resumes the JOBDIR; after SIGKILL the
    possibly torn JOBDIR is discarded and the next run pages again. Either way nothing is lost or doubled."""
    slow = Faults({"slow": 1.0}, slow_seconds=0.4, max_per_url=100)
    with DemoSite(scenario(slow), start=START) as site:
        config = write_config(tmp_path, site.base_urls)
        log = tmp_path / "first.log"  # a file, not a pipe nobody reads while we wait (it would stall the crawl)
        with log.open("w") as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "crawlers.runner", "weibo", *SCRAPY], cwd=ROOT,
                                    env=child_env(config), stdout=subprocess.DEVNULL, stderr=stderr)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and site.requests["weibo"] < 30:
                time.sleep(0.1)
            proc.send_signal(sig)
            proc.wait(timeout=120)
        err = log.read_text(encoding="utf-8", errors="replace")
        jobdir = tmp_path / "var" / "jobs" / "weibo"
        assert jobdir.exists(), f"the interrupted crawl left its JOBDIR\n{err[-2000:]}"
        assert (jobdir / "stopped-cleanly").exists() == (sig == signal.SIGTERM)
        partial = stored_keys(config)
        site.faults.faults.rates.clear()
        resumed = crawl_all(config, ("weibo",))
        keys = stored_keys(config)
        assert len(keys) == len(set(keys))
        expected = {k for k in findable(site) if k.startswith("weibo:")}
        assert not expected - set(keys), (sorted(expected - set(keys)), resumed, len(partial))
        assert set(partial) <= set(keys)
        assert not jobdir.exists(), "a finished crawl clears its JOBDIR"
