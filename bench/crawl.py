"""Crawl throughput against the demo site with politeness off: pages/s, posts/s, share of time parsing.

References measured in the same run: the same pages fetched one by one with urllib (what the
site and loopback allow) and parsed in a loop with no Scrapy (what the parsers allow).
Usage: python bench/crawl.py [--posts 3000]; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawlers.parsers import PARSERS  # noqa: E402
from crawlers.watchlist import load_watchlist  # noqa: E402
from demo.scenario import SCENARIOS, load_scenario  # noqa: E402
from demo.server import DemoSite  # noqa: E402


def bench_scenario(tmp: Path, posts: int) -> Path:
    raw = yaml.safe_load((SCENARIOS / "default.yaml").read_text(encoding="utf-8"))
    raw["chatter"][0]["count"] = posts
    raw["platforms"] = {"weibo": {"page_size": 10, "page_cap": 50}}
    path = tmp / "bench.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def reference(site: DemoSite, keywords: tuple[str, ...], pages: int) -> tuple[float, float, int]:
    """(fetch pages/s, parse pages/s, pages) over the type=61 search pages of the watch keywords."""
    from urllib.parse import quote

    base = site.base_urls["weibo"]
    urls = []
    for kw in keywords:
        for page in range(1, 51):
            urls.append(f"{base}/api/container/getIndex?containerid={quote(f'100103type=61&q={kw}', safe='')}"
                        f"&page_type=searchall&page={page}")
    bodies = []
    began = time.perf_counter()
    for url in urls:
        body = urllib.request.urlopen(url, timeout=30).read()
        if b'"ok":0' in body[:20]:
            continue
        bodies.append((url, body))
        if len(bodies) >= pages:
            break
    fetch = len(bodies) / (time.perf_counter() - began)
    now = datetime.now(UTC)
    began = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for url, body in bodies:
            PARSERS["weibo.search"](body, url, now=now)
    parse = rounds * len(bodies) / (time.perf_counter() - began)
    return fetch, parse, len(bodies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=3000, help="generated weibo posts in the scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        scenario = load_scenario(bench_scenario(tmp, args.posts))
        with DemoSite(scenario, start=datetime.now(UTC) - timedelta(hours=3)) as site:
            config = tmp / "yuqing.toml"
            config.write_text("\n".join([
                "[store]", f'path = "{tmp / "yuqing.db"}"', "[crawl]", f'jobstore = "{tmp / "var" / "s.db"}"',
                *(f'{p}_base_url = "{u}"' for p, u in site.base_urls.items())]) + "\n", encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_SENTIMENT_")}
            env["YUQING_CONFIG"] = str(config)
            began = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "crawlers.runner", "weibo", "--no-politeness",
                                   "--set", "LOG_LEVEL=WARNING"], cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - began
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
                return 1
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            fetch_ref, parse_ref, ref_pages = reference(site, load_watchlist().keywords_for("weibo"), run["pages"])
    seconds = run["seconds"]
    result = {
        "pages": run["pages"], "posts": run["posts_found"], "crawl_seconds": seconds,
        "process_seconds": round(wall, 3),
        "pages_per_s": round(run["pages"] / seconds, 1), "posts_per_s": round(run["posts_found"] / seconds, 1),
        "parse_share": round(run["parse_seconds"] / seconds, 4),
        "analyzer_load_share": round(run["analyzer_load_seconds"] / seconds, 4),
        "analyze_share": round(run["analyze_seconds"] / seconds, 4),
        "store_share": round(run["store_seconds"] / seconds, 4),
        "reference_fetch_pages_per_s": round(fetch_ref, 1), "reference_parse_pages_per_s": round(parse_ref, 1),
        "reference_pages": ref_pages,
    }
    print(f"crawl: {result['pages']} pages, {result['posts']} posts in {seconds:.1f}s "
          f"(process {wall:.1f}s incl. start-up) -> {result['pages_per_s']} pages/s, {result['posts_per_s']} posts/s")
    print(f"share of crawl time: parsing {result['parse_share']:.1%}, loading the analyzer "
          f"{result['analyzer_load_share']:.1%}, analyzing {result['analyze_share']:.1%}, "
          f"storing {result['store_share']:.1%}")
    print(f"reference, same run: urllib one-by-one {result['reference_fetch_pages_per_s']} pages/s; "
          f"parser alone {result['reference_parse_pages_per_s']} pages/s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
