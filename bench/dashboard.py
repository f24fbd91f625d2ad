"""Fill a store with generated posts (1,000,000 by default) and time every overview query and every page.

    python bench/dashboard.py [--posts N] [--path var/bench/dashboard.db] [--reuse]

Reference in the same run: the same overview queries on a 10,000-post store. Pages are rendered with
streamlit.testing (cold cache, then warm). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yuqing.index.sqlite import SQLiteIndex  # noqa: E402
from yuqing.ops.sql import SqlOps  # noqa: E402
from yuqing.records import Alert, Analysis, Event, Post  # noqa: E402

OPERATORS = ("中国电信", "中国移动", "中国联通", "中国广电")
PLATFORMS = ("weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili")
TOUCHPOINTS = ("网络信号", "宽带", "资费账单", "客服热线", "营业厅", "装维上门", "营销短信与骚扰", "套餐与合约", "5G",
               "携号转网与销户", "App与线上渠道", "国际漫游", "其他")
PROVINCES = ("广东", "北京", "上海", "江苏", "浙江", "四川", "湖北", "山东", "河南", "福建", "湖南", "安徽", "河北", "陕西",
             "重庆", "天津", "辽宁", "江西", "广西", "云南", "山西", "贵州", "黑龙江", "吉林", "内蒙古", "新疆", "甘肃",
             "海南", "宁夏", "青海", "西藏", "香港", "澳门", "台湾")
PHRASES = ("信号太差了", "宽带又断网", "乱扣话费", "客服电话打不通", "营业厅排队两小时", "师傅上门迟到", "骚扰电话太多",
           "套餐降档被拒", "5G网速很快", "携号转网好麻烦", "App登录不了", "漫游费太贵", "服务态度很好", "网速还可以")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BATCH = 5000


def generate(n: int, seed: int = 7):
    """Batches of (Post, Analysis) spread over 90 days, skewed like real traffic."""
    rnd = random.Random(seed)
    batch = []
    for i in range(n):
        op = rnd.choices(OPERATORS, weights=(4, 3, 2, 1))[0]
        label = rnd.choices(("negative", "neutral", "positive"), weights=(3, 5, 2))[0]
        tps = tuple(rnd.sample(TOUCHPOINTS, rnd.choice((1, 1, 2))))
        province = rnd.choice(PROVINCES)
        phrase = rnd.choice(PHRASES)
        platform = rnd.choices(PLATFORMS, weights=(6, 2, 1, 1, 1, 1))[0]
        post = Post(platform=platform, post_id=f"b{i}", text=f"{op}{phrase}，{province}用户第{i % 997}次反映",
                    published_at=NOW - timedelta(seconds=rnd.randrange(90 * 86400)),
                    kind="question" if platform == "zhidao" else "post", author_name=f"u{i % 50000}",
                    operators=(op,), ip_region=province, comments=rnd.randrange(5))
        analysis = Analysis(label=label, score={"negative": 0.1, "neutral": 0.5, "positive": 0.9}[label],
                            touchpoints=tps, operators=(op,), province=province, influence=rnd.expovariate(1.0),
                            keywords=(phrase[:2], tps[0]), event_id=f"ev{rnd.randrange(2000)}",
                            risk_flags=("churn",) if rnd.random() < 0.01 else ())
        batch.append((post, analysis))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(store: SQLiteIndex, n: int) -> float:
    t0 = time.perf_counter()
    done = 0
    for batch in generate(n):
        store.upsert_posts(batch)
        done += len(batch)
        if done % 100_000 == 0:
            rate = done / (time.perf_counter() - t0)
            print(f"  filled {done:,} posts, {rate:,.0f} posts/s", file=sys.stderr, flush=True)
    store.upsert_events([Event(event_id=f"ev{i}", title=f"事件{i}", first_seen=NOW - timedelta(days=3),
                               last_seen=NOW - timedelta(hours=i % 48), size=500 - i % 500) for i in range(2000)])
    ops = SqlOps(f"sqlite:///{store.path}")  # the OpsDB in the same file, as by default
    ops.save_alert(Alert(rule="negative_burst", key="bench", severity="red", title="压测预警", reason="压测",
                         opened_at=NOW - timedelta(minutes=10), count=50, baseline=5.0))
    ops.close()
    return time.perf_counter() - t0


def time_overview(store: SQLiteIndex, label: str) -> dict[str, float]:
    """Each overview query, for a few filter combinations; the worst time per query name."""
    from dashboard.filters import Filters
    from dashboard.overview import specs

    combos = [Filters(range="7d"), Filters(range="30d", operators=("中国电信",)),
              Filters(range="24h", platforms=("weibo",)), Filters(range="90d"),
              Filters(range="30d", touchpoints=("宽带",), regions=("广东",))]
    worst: dict[str, float] = {}
    for f in combos:
        for spec in specs(f, NOW):
            t0 = time.perf_counter()
            getattr(store, spec.method)(*spec.args, **spec.kwargs)
            ms = (time.perf_counter() - t0) * 1000
            key = f"{spec.name}"
            worst[key] = max(worst.get(key, 0.0), ms)
            print(f"  [{label}] {f.range:>3} {','.join(f.operators + f.platforms + f.touchpoints + f.regions) or '-':12}"
                  f" {spec.name:22} {ms:8.1f} ms", file=sys.stderr)
    return worst


def time_pages(path: Path) -> dict[str, dict[str, float]]:
    """Render each page script with streamlit.testing against the store: cold cache, then warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import data

    os.environ["YUQING_STORE_PATH"] = str(path)
    os.environ.pop("YUQING_CONFIG", None)
    data.now = lambda: NOW  # the generated data ends at NOW
    out: dict[str, dict[str, float]] = {}
    for page in ("overview", "alerts", "queue", "search", "reports", "sources", "subscribers"):
        st.cache_data.clear()
        data._last_sync.clear()
        at = AppTest.from_file(str(ROOT / "dashboard" / "views" / f"{page}.py"), default_timeout=600)
        at.session_state["user"] = {"username": "bench", "role": "admin", "display_name": "bench"}
        t0 = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(f"page {page} failed: {at.exception[0].value}")
        t0 = time.perf_counter()
        at.run()
        warm = time.perf_counter() - t0
        out[page] = {"cold_s": round(cold, 3), "warm_s": round(warm, 3)}
        print(f"  page {page:12} cold {cold:6.2f} s  warm {warm:6.2f} s", file=sys.stderr)
    data.close_stores()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--path", default=str(ROOT / "var" / "bench" / "dashboard.db"))
    ap.add_argument("--reuse", action="store_true", help="reuse the file when it already holds --posts posts")
    ap.add_argument("--no-pages", action="store_true", help="skip the page renders")
    args = ap.parse_args()
    path = Path(args.path)
    path.parent.mkdir(parents=True, exist_ok=True)

    ref_path = path.with_name("dashboard-ref.db")
    for p in (ref_path, Path(f"{ref_path}-wal"), Path(f"{ref_path}-shm")):
        p.unlink(missing_ok=True)
    ref = SQLiteIndex(ref_path)
    ref_fill = fill(ref, 10_000)
    ref_times = time_overview(ref, "10k")
    ref.close()

    if not args.reuse:
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    store = SQLiteIndex(path)
    from yuqing.index import PostQuery

    have = store.count_posts(PostQuery())
    fill_s = 0.0
    if have != args.posts:
        if have:
            raise SystemExit(f"{path} holds {have:,} posts, not {args.posts:,}: drop --reuse")
        fill_s = fill(store, args.posts)
        print(f"filled {args.posts:,} posts in {fill_s:.1f} s ({args.posts / fill_s:,.0f} posts/s)", file=sys.stderr)
    times = time_overview(store, f"{args.posts // 1000}k")
    store.close()
    pages = {} if args.no_pages else time_pages(path)
    slowest = max(times, key=times.__getitem__)
    result = {
        "posts": args.posts, "fill_seconds": round(fill_s, 1),
        "fill_posts_per_second": round(args.posts / fill_s) if fill_s else None,
        "overview_query_ms": {k: round(v, 1) for k, v in times.items()},
        "slowest_query": slowest, "slowest_query_ms": round(times[slowest], 1),
        "overview_sum_ms": round(sum(times.values()), 1),
        "reference_10k": {"fill_seconds": round(ref_fill, 2), "slowest_query_ms": round(max(ref_times.values()), 1),
                          "overview_sum_ms": round(sum(ref_times.values()), 1)},
        "pages": pages,
        "slowest_page": max(pages, key=lambda p: pages[p]["cold_s"]) if pages else None,
        "slowest_page_cold_s": max((v["cold_s"] for v in pages.values()), default=None),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
