"""Time to build a weekly brief (gather + render PDF, Word, HTML) on a post index of 1,000,000 generated posts, beside
the time of the 报表 page's queries for the same week on the same index, measured in the same run.

    python bench/briefs.py [--posts N] [--path var/bench/briefs.db] [--reuse]

The posts are bench/dashboard.py's generator (90 days, skewed like real traffic) in a temporary SQLite index (and
OpsDB in the same file, as by default). To fill a million posts in minutes, the fill indexes each post's text as
one full-text token instead of jieba words and character grams: a brief reads counts, facets, events and posts by
key, never full-text search, so what it reads is the same. The 报表 reference is what dashboard/views/reports.py asks the store for a
weekly report of one week: hourly volume by label, by touchpoint, negative by touchpoint, and the replies.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dashboard import NOW, fill  # noqa: E402
from reports import render  # noqa: E402
from yuqing import briefing  # noqa: E402
from yuqing.index import PostQuery  # noqa: E402
from yuqing.index.sqlite import SQLiteIndex  # noqa: E402
from yuqing.ops.sql import SqlOps  # noqa: E402


def report_page_queries(index: SQLiteIndex, ops: SqlOps, start, end) -> None:  # type: ignore[no-untyped-def]
    """The reads of the 报表 page (weekly, one week): dashboard/views/reports.py through dashboard/data.py."""
    base = PostQuery(since=start, until=end)
    index.volume(base, bucket_seconds=3600, by="label")
    index.volume(base, bucket_seconds=3600, by="touchpoint")
    index.volume(replace(base, labels=("negative",)), bucket_seconds=3600, by="touchpoint")
    replied = [c for c in ops.list_cases(statuses=("replied", "resolved"), limit=100_000) if c.first_reply_at]
    if replied:
        index.search_posts(PostQuery(keys=tuple(c.key for c in replied)), limit=len(replied))


def timed(fn, repeat: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first run, best of the following runs) in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times[1:]) if len(times) > 1 else times[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--path", default="", help="index file (default: a temporary directory, removed after)")
    ap.add_argument("--reuse", action="store_true", help="keep and reuse an existing --path")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="yuqing-bench-briefs-") if not args.path else None
    path = Path(args.path) if args.path else Path(tmp.name) / "briefs.db"  # type: ignore[union-attr]
    if path.exists() and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    index = SQLiteIndex(path)
    fill_s = 0.0
    if index.count_posts(PostQuery()) < args.posts:
        print(f"filling {args.posts:,} posts into {path} …", file=sys.stderr)
        from yuqing.index import sqlite as sqlite_index

        sqlite_index.index_tokens = lambda text: (text, "")  # see the docstring: briefs never search text
        t0 = time.perf_counter()
        fill(index, args.posts)
        fill_s = time.perf_counter() - t0
    ops = SqlOps(f"sqlite:///{path}")
    day = date(2026, 11, 16)  # the last complete week before the generator's NOW (Mon 2026-11-16 .. Sun 11-22)
    start, end, _ = briefing.period("weekly", day, NOW)
    week_posts = index.count_posts(PostQuery(since=start, until=end))

    page_first, page_best = timed(lambda: report_page_queries(index, ops, start, end))
    gather_first, gather_best = timed(lambda: briefing.gather_period(index, ops, "weekly", NOW, day=day))
    brief = briefing.gather_period(index, ops, "weekly", NOW, day=day)
    renders = {}
    sizes = {}
    for fmt in ("pdf", "docx", "html"):
        first, best = timed(lambda f=fmt: render(brief, f), repeat=2)
        renders[fmt] = round(best, 3)
        sizes[fmt] = len(render(brief, fmt))
    total = gather_best + renders["pdf"]
    print(f"posts in the index: {args.posts:,}; in the week {day} .. {day + timedelta(days=6)} (Asia/Shanghai): "
          f"{week_posts:,}" + (f"; filled in {fill_s:.0f} s" if fill_s else ""))
    print(f"报表 page queries for the week (reference): first {page_first:.3f} s, warm {page_best:.3f} s")
    print(f"weekly brief, gather figures:               first {gather_first:.3f} s, warm {gather_best:.3f} s")
    print(f"weekly brief, render: PDF {renders['pdf']:.3f} s ({sizes['pdf']:,} B), Word {renders['docx']:.3f} s "
          f"({sizes['docx']:,} B), HTML {renders['html']:.3f} s ({sizes['html']:,} B)")
    print(f"weekly brief as PDF, gather + render (warm): {total:.3f} s = {total / page_best:.1f}x the 报表 page queries")
    print(json.dumps({"posts": args.posts, "week_posts": week_posts, "report_page_s": round(page_best, 3),
                      "report_page_first_s": round(page_first, 3), "gather_s": round(gather_best, 3),
                      "gather_first_s": round(gather_first, 3), "render_s": renders, "bytes": sizes,
                      "brief_pdf_total_s": round(total, 3), "fill_s": round(fill_s, 1)}))
    index.close()
    ops.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
