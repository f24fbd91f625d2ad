"""Benchmark: `yuqing store migrate` throughput, SQLite -> SQLite (and -> Elasticsearch when YUQING_ES_URL is set).

Reference measured in the same run: reading every post through `iter_posts` alone, and SQLite's own file copy
(the backup API), the floor for any copy of the same data. Texts repeat (200 distinct), as in the test, so
the tokenizer is cached; the numbers are the stores' and the migration's own cost.

    python bench/store_migrate.py [--posts 100000] [--batch 2000]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yuqing.index.sqlite as sqlite_module  # noqa: E402
from yuqing.index import PostQuery  # noqa: E402
from yuqing.ops.sql import SqlOps  # noqa: E402
from yuqing.records import Analysis, Post  # noqa: E402
from yuqing.storage.copy import copy_index  # noqa: E402

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TEXTS = [f"{w}，第{k}次" for w in ("电信宽带断网", "携号转网被拒", "联通5G信号差", "客服电话打不通", "光猫一直红灯")
         for k in range(40)]


def fill(store: sqlite_module.SQLiteIndex, n: int) -> None:
    labels = [Analysis(label, score, operators=(op,)) for label, score, op in
              (("negative", 0.1, "电信"), ("neutral", 0.5, "联通"), ("positive", 0.9, "移动"))]
    for start in range(0, n, 10_000):
        store.upsert_posts([(Post("weibo", f"{i:07d}", TEXTS[i % len(TEXTS)], NOW - timedelta(seconds=i)), labels[i % 3])
                            for i in range(start, min(n, start + 10_000))])


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    sqlite_module.index_tokens = functools.lru_cache(maxsize=None)(sqlite_module.index_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        src = sqlite_module.SQLiteIndex(Path(tmp) / "source.db")
        ops = SqlOps(f"sqlite:///{Path(tmp) / 'ops.db'}")  # the checkpoints
        fill_s, _ = timed(lambda: fill(src, args.posts))
        read_s, count = timed(lambda: sum(len(b) for b in src.iter_posts(batch=args.batch)))
        assert count == args.posts

        def backup() -> None:
            with sqlite3.connect(Path(tmp) / "source.db") as a, sqlite3.connect(Path(tmp) / "copy.db") as b:
                a.backup(b)

        backup_s, _ = timed(backup)
        dst = sqlite_module.SQLiteIndex(Path(tmp) / "target.db")
        mig_s, report = timed(lambda: copy_index(src, dst, ops, name="bench", batch=args.batch))
        assert dst.count_posts(PostQuery()) == args.posts and report.copied["posts"] == args.posts
        out = {"posts": args.posts, "fill_s": round(fill_s, 2), "iter_posts_per_s": round(args.posts / read_s),
               "sqlite_backup_s": round(backup_s, 3), "migrate_s": round(mig_s, 2),
               "migrate_posts_per_s": round(args.posts / mig_s)}
        if os.environ.get("YUQING_ES_URL"):
            from elasticsearch import Elasticsearch

            from yuqing.index.elastic import ElasticIndex

            es = ElasticIndex(Elasticsearch(os.environ["YUQING_ES_URL"], request_timeout=60),
                              prefix=f"bench-{int(time.time())}")
            try:
                es_s, _ = timed(lambda: copy_index(src, es, ops, name="bench-es", batch=args.batch))
                out.update(es_migrate_s=round(es_s, 2), es_posts_per_s=round(args.posts / es_s),
                           es_count=es.count_posts(PostQuery()))
            finally:
                es.drop()
        print(f"fill {fill_s:.1f} s; iter_posts {out['iter_posts_per_s']}/s; sqlite backup {backup_s:.2f} s; "
              f"migrate {mig_s:.1f} s = {out['migrate_posts_per_s']} posts/s")
        print(json.dumps(out))


if __name__ == "__main__":
    main()
