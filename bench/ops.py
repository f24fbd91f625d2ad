"""The OpsDB on PostgreSQL beside the OpsDB on SQLite, in one run: alert evaluation (the shipped rules over one
post index), the OpsDB calls it and the outbox make, and the dashboard's 待处理 (queue) and 预警 (alerts) pages.

    python bench/ops.py [--posts 50000] [--scale 1.0] [--repeat 5]

A throwaway PostgreSQL server on 127.0.0.1 (tests/pgserver.py; the server binaries must be installed, as
`make test` does) and a SQLite file get the same operational records (alerts, cases, audit, crawl runs, rejected
items, subscribers, outbox); both are read against the same SQLite post index. SQLite is the reference. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pgserver import SKIP_REASON, PgServer, find_bin  # noqa: E402
from yuqing.config import Settings  # noqa: E402
from yuqing.index.sqlite import SQLiteIndex  # noqa: E402
from yuqing.ops import tables as T  # noqa: E402
from yuqing.ops.sql import SqlOps  # noqa: E402
from yuqing.ops.transfer import fix_sequences, import_rows  # noqa: E402
from yuqing.records import Alert, AuditEntry, Case, CrawlRun, OutboxMessage, Rejected, Subscriber  # noqa: E402


def _bench_dashboard() -> Any:
    spec = importlib.util.spec_from_file_location("bench_dashboard", ROOT / "bench" / "dashboard.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


BD = _bench_dashboard()
NOW = BD.NOW
RULES = ("负面声量激增", "电信负面声量激增", "升级投诉苗头", "城市网络故障", "数据源断流")


def fill_index(path: Path, n: int) -> None:
    index = SQLiteIndex(path)
    for batch in BD.generate(n):
        index.upsert_posts([(p, a) for p, a in batch])
    index.close()


def fill_ops(ops: SqlOps, scale: float, post_keys: list[str]) -> dict[str, int]:
    """The same operational history in either database: a year of crawl runs and audit, alerts, cases …"""
    rnd = random.Random(11)
    n = {k: max(1, int(v * scale)) for k, v in
         {"alerts": 3000, "cases": 3000, "audit": 60000, "runs": 50000, "rejected": 20000, "outbox": 8000}.items()}
    severities = ("blue", "yellow", "orange", "red")
    alerts = [T.to_row(Alert(rule=rnd.choice(RULES), key=f"k{i}", severity=rnd.choice(severities), title=f"预警{i}",
                             reason="压测", opened_at=NOW - timedelta(minutes=rnd.randrange(365 * 1440)),
                             status=rnd.choice(("open", "acknowledged", "resolved", "resolved", "resolved")),
                             scope={"operators": ["中国电信"]}, sample_keys=tuple(rnd.sample(post_keys, 3)),
                             event_id=f"ev{rnd.randrange(2000)}", alert_id=i + 1), T.alerts) for i in range(n["alerts"])]
    cases = [T.to_row(Case(platform=k.split(":")[0], post_id=k.split(":")[1], priority=rnd.random() * 10,
                           status=rnd.choice(("new", "assigned", "replied", "resolved", "ignored")),
                           created_at=NOW - timedelta(hours=rnd.randrange(24 * 30)), case_id=i + 1), T.cases)
             for i, k in enumerate(rnd.sample(post_keys, min(n["cases"], len(post_keys))))]
    audit = [T.to_row(AuditEntry(NOW - timedelta(seconds=i * 97), f"u{i % 20}", "claim", f"case:{i % len(cases) + 1}"),
                      T.audit, id=i + 1) for i in range(n["audit"])]
    runs = [T.to_row(CrawlRun(source=("weibo", "zhihu", "zhidao", "heimao")[i % 4],
                              started_at=NOW - timedelta(minutes=10 * (n["runs"] - i) // 4),
                              finished_at=NOW - timedelta(minutes=10 * (n["runs"] - i) // 4 - 1), pages=3,
                              posts_found=30, posts_new=rnd.randrange(10), errors={"parse": i % 3} if i % 7 else {},
                              run_id=i + 1), T.crawl_runs) for i in range(n["runs"])]
    rejected = [T.to_row(Rejected("weibo", "parse", f"reason {i % 30}", at=NOW - timedelta(minutes=i)), T.rejected,
                         id=i + 1) for i in range(n["rejected"])]
    counts = {name: import_rows(ops, table, rows) for name, table, rows in
              (("alerts", T.alerts, alerts), ("cases", T.cases, cases), ("audit", T.audit, audit),
               ("crawl_runs", T.crawl_runs, runs), ("rejected", T.rejected, rejected))}
    fix_sequences(ops)
    for i in range(20):
        ops.save_subscriber(Subscriber(email=f"s{i}@example.cn", min_severity=severities[i % 4],
                                       mode=("immediate", "hourly", "daily")[i % 3]))
    for i in range(n["outbox"]):
        mid = ops.enqueue(OutboxMessage(to=(f"s{i % 20}@example.cn",), subject=f"预警 {i}", text="正文" * 50,
                                        html="<p>正文</p>" * 200, created_at=NOW - timedelta(minutes=i)))
        if i % 10:
            ops.mark_sent(mid, NOW - timedelta(minutes=i))  # type: ignore[arg-type]
    counts["outbox"] = n["outbox"]
    return counts


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of `repeat` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(index_path: Path, url: str, settings: Settings, repeat: int) -> dict[str, float]:
    from alerts.engine import configured_rules, run_once
    from yuqing.ops import owner_id

    index = SQLiteIndex(index_path)
    ops = SqlOps(url)
    rules = configured_rules(settings)
    out = {"alert_evaluation_ms": timed(lambda: run_once(index, ops, settings, NOW, rules=rules), repeat),
           "list_alerts_7d_ms": timed(lambda: ops.list_alerts(since=NOW - timedelta(days=7), limit=2000), repeat),
           "source_health_ms": timed(ops.source_health, repeat),
           "queue_cases_ms": timed(lambda: ops.list_cases(statuses=("new", "assigned"), limit=500), repeat),
           "audit_of_one_case_ms": timed(lambda: ops.list_audit(target="case:7"), repeat),
           "rejected_counts_ms": timed(ops.rejected_counts, repeat)}
    t0 = time.perf_counter()
    claimed = 0
    while batch := ops.claim_messages(NOW + timedelta(days=1), owner_id(), limit=50):
        for m in batch:
            ops.mark_sent(m.message_id, NOW)  # type: ignore[arg-type]
        claimed += len(batch)
    out["outbox_claim_and_mark_per_s"] = round(claimed / max(time.perf_counter() - t0, 1e-9))
    index.close()
    ops.close()
    return out


def render_pages(index_path: Path, url: str) -> dict[str, float]:
    """The dashboard's queue and alerts pages with streamlit.testing: cold (first render), then warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import data

    os.environ["YUQING_STORE_PATH"] = str(index_path)
    os.environ["YUQING_DATABASE_URL"] = url
    os.environ.pop("YUQING_CONFIG", None)
    data.now = lambda: NOW
    out: dict[str, float] = {}
    for page in ("queue", "alerts"):
        st.cache_data.clear()
        data._last_sync.clear()
        at = AppTest.from_file(str(ROOT / "dashboard" / "views" / f"{page}.py"), default_timeout=600)
        at.session_state["user"] = {"username": "bench", "role": "admin", "display_name": "bench"}
        t0 = time.perf_counter()
        at.run()
        out[f"page_{page}_cold_s"] = round(time.perf_counter() - t0, 3)
        if at.exception:
            raise SystemExit(f"page {page} failed: {at.exception[0].value}")
        t0 = time.perf_counter()
        at.run()
        out[f"page_{page}_warm_s"] = round(time.perf_counter() - t0, 3)
    data.close_stores()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=50_000)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the operational records (default 1.0)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-pages", action="store_true")
    args = ap.parse_args()
    if find_bin() is None:
        print(f"bench/ops.py needs PostgreSQL: {SKIP_REASON}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, PgServer() as pg:
        index_path = Path(tmp) / "index.db"
        t0 = time.perf_counter()
        fill_index(index_path, args.posts)
        index = SQLiteIndex(index_path)
        keys = [sp.post.key for batch in index.iter_posts(batch=5000) for sp in batch]
        index.close()
        print(f"post index: {args.posts:,} posts in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'ops.db'}",
                "postgresql": pg.database("bench").replace("postgresql://", "postgresql+psycopg://")}
        settings = Settings().replace(store={"path": str(index_path)})
        results: dict[str, dict[str, float]] = {}
        for name, url in urls.items():
            ops = SqlOps(url)
            t0 = time.perf_counter()
            counts = fill_ops(ops, args.scale, keys)
            ops.close()
            print(f"OpsDB on {name}: {counts} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            results[name] = measure(index_path, url, settings, args.repeat)
            if not args.no_pages:
                results[name].update(render_pages(index_path, url))
    ref, pg_r = results["sqlite"], results["postgresql"]
    print(f"{'':34} {'SQLite (reference)':>20} {'PostgreSQL':>14} {'ratio':>7}")
    for key in ref:
        ratio = pg_r[key] / ref[key] if ref[key] else float("nan")
        unit = "" if key.endswith(("_ms", "_s")) else " /s"
        print(f"{key:34} {ref[key]:>18.1f}{unit:2} {pg_r[key]:>12.1f}{unit:2} {ratio:>7.2f}")
    print(json.dumps({"posts": args.posts, "scale": args.scale, "repeat": args.repeat, "sqlite": ref,
                      "postgresql": pg_r}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
