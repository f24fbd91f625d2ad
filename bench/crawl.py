"""Crawl throughput against the demo site with politeness off: pages/s, posts/s, share of time parsing, for every
source in one run (Weibo first, with its references; then Zhihu, Zhidao, Heimao, Tieba, Bilibili and the hot-list
poll, whose "posts" are the hot-list entries read from the four boards).

References measured in the same run: the same Weibo pages fetched one by one with urllib (what the site and
loopback allow) and parsed in a loop with no Scrapy (what the parsers allow).
Usage: python bench/crawl.py [--posts 3000] [--threads 300] [--videos 200] [--sources weibo,tieba];
the last line is one JSON object.
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
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawlers.parsers import PARSERS  # noqa: E402
from crawlers.runner import SPIDERS  # noqa: E402
from crawlers.watchlist import load_watchlist  # noqa: E402
from demo.scenario import SCENARIOS, load_scenario  # noqa: E402
from demo.server import DemoSite  # noqa: E402


def bench_scenario(tmp: Path, posts: int, threads: int, videos: int) -> Path:
    """The default scenario with `posts` generated Weibo posts, `threads` Tieba threads in 中国电信吧 and `videos`
    Bilibili videos, all in the past."""
    raw = yaml.safe_load((SCENARIOS / "default.yaml").read_text(encoding="utf-8"))
    raw["chatter"][0]["count"] = posts
    weibo = raw["chatter"][0]
    raw["chatter"] += [
        {**weibo, "platform": "tieba", "count": threads, "first_id": 9200000000, "titled": True,
         "extra": {"bar": "中国电信"}, "from": "-48h", "to": "-1h"},
        {**weibo, "platform": "bilibili", "count": videos, "first_id": 113400000000000, "titled": True,
         "from": "-48h", "to": "-1h"},
    ]
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


def crawl(source: str, env: dict[str, str]) -> dict[str, Any]:
    """One crawl of `source` with politeness off; its figures, or an error."""
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawlers.runner", source, "--no-politeness",
                           "--set", "LOG_LEVEL=WARNING"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr[-500:]}"}
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    seconds = run["seconds"] or 1e-9
    found = run["posts_found"] or int(run.get("hot", {}).get("entries", 0))  # a hot-list poll reads entries
    return {"pages": run["pages"], "posts": found, "crawl_seconds": seconds,
            "process_seconds": round(wall, 3), "pages_per_s": round(run["pages"] / seconds, 1),
            "posts_per_s": round(found / seconds, 1),
            **{f"{k}_share": round(run[f"{k}_seconds"] / seconds, 4) for k in ("parse", "analyzer_load", "analyze",
                                                                                  "store")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=3000, help="generated weibo posts in the scenario")
    parser.add_argument("--threads", type=int, default=300, help="generated tieba threads")
    parser.add_argument("--videos", type=int, default=200, help="generated bilibili videos")
    parser.add_argument("--sources", default=",".join(SPIDERS), help="comma-separated sources (default: all)")
    args = parser.parse_args()
    sources = [s for s in args.sources.split(",") if s]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        scenario = load_scenario(bench_scenario(tmp, args.posts, args.threads, args.videos))
        with DemoSite(scenario, start=datetime.now(UTC) - timedelta(hours=3)) as site:
            config = tmp / "yuqing.toml"
            config.write_text("\n".join([
                "[store]", f'path = "{tmp / "yuqing.db"}"', "[crawl]", f'jobstore = "{tmp / "var" / "s.db"}"',
                *(f'{p}_base_url = "{u}"' for p, u in site.base_urls.items()),
                f'hotlist_base_url = "{next(iter(site.board_urls.values()))}"']) + "\n", encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") or k.startswith("YUQING_SENTIMENT_")}
            env["YUQING_CONFIG"] = str(config)
            for source in sources:
                results[source] = crawl(source, env)
            ref = {}
            if "pages" in results.get("weibo", {}):
                fetch_ref, parse_ref, ref_pages = reference(site, load_watchlist().keywords_for("weibo"),
                                                            results["weibo"]["pages"])
                ref = {"reference_fetch_pages_per_s": round(fetch_ref, 1),
                       "reference_parse_pages_per_s": round(parse_ref, 1), "reference_pages": ref_pages}
    print(f"{'source':9} {'pages':>6} {'posts':>6} {'seconds':>8} {'pages/s':>8} {'posts/s':>8}  share of crawl time")
    for source, r in results.items():
        if "error" in r:
            print(f"{source:9} failed: {r['error']}")
            continue
        print(f"{source:9} {r['pages']:>6} {r['posts']:>6} {r['crawl_seconds']:>8.1f} {r['pages_per_s']:>8} "
              f"{r['posts_per_s']:>8}  parsing {r['parse_share']:.1%}, analyzer load {r['analyzer_load_share']:.1%}, "
              f"analyzing {r['analyze_share']:.1%}, storing {r['store_share']:.1%}")
    if ref:
        print(f"reference, same run (weibo pages): urllib one-by-one {ref['reference_fetch_pages_per_s']} pages/s; "
              f"parser alone {ref['reference_parse_pages_per_s']} pages/s")
    weibo = results.get("weibo", {}) if "error" not in results.get("weibo", {}) else {}
    print(json.dumps({**weibo, **ref, "sources": results}))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
