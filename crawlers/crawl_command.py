"""`yuqing crawl SOURCE [--max-pages N]`: one crawl of one source now, under the source's lock."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    crawl = sub.add_parser("crawl", help="crawl one source once (the scheduler does this every N seconds)")
    crawl.add_argument("source", choices=("weibo", "zhihu", "zhidao", "heimao"))
    crawl.add_argument("--max-pages", type=int, default=None, help="pages per query (default: [crawl] max_pages)")
    crawl.add_argument("--keywords", default="", help="comma-separated search words (default: the watchlist)")
    crawl.add_argument("--ignore-robots", action="store_true", help="do not obey robots.txt for this source (warns)")
    crawl.set_defaults(func=crawl_command)


def crawl_command(args: argparse.Namespace) -> int:
    from crawlers.runner import EXIT_BUSY, SourceBusy, crawl, source_lock
    from yuqing.commands import settings_from

    settings = settings_from(args)
    try:
        with source_lock(settings, args.source):
            result = crawl(settings, args.source, max_pages=args.max_pages, keywords=args.keywords,
                           ignore_robots=(args.source,) if args.ignore_robots else ())
    except SourceBusy as exc:
        print(f"跳过 skipped: {exc}")
        return EXIT_BUSY
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["healthy"] else 1
