"""`yuqing crawl SOURCE [--max-pages N]`: one crawl of one source now, under the source's lock."""

from __future__ import annotations

import argparse
import json
from typing import Any

from crawlers.runner import page_count

SUMMARY_HELP = """\
The last stdout line is one JSON summary of the run: posts_found (posts the crawl saw), posts_new (not stored
before), posts_stored (posts written: new ones inserted plus re-seen ones updated), posts_updated (the re-seen
ones among them), posts_unanalyzed (stored without sentiment analysis because the analyzer failed), rejected,
errors by kind, healthy and reason. Exit 0 when healthy, 1 when not (the reason is shown by `yuqing sources`),
75 when the source is already being crawled. Scrapy logs at WARNING; -v shows everything."""


def register(sub: Any) -> None:
    crawl = sub.add_parser("crawl", help="crawl one source once (the scheduler does this every N seconds)",
                           description="Crawl one source once, under its lock, and record the run.",
                           epilog=SUMMARY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    from crawlers.runner import SPIDERS

    crawl.add_argument("source", choices=tuple(SPIDERS))
    crawl.add_argument("--max-pages", type=page_count, default=None, metavar="N",
                       help="pages per query, at least 1 (default: [crawl] max_pages)")
    crawl.add_argument("--keywords", default="", help="comma-separated search words (default: the watchlist)")
    crawl.add_argument("--ignore-robots", action="store_true", help="do not obey robots.txt for this source (warns)")
    crawl.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="debug logging, Scrapy's included (same as `yuqing -v crawl`)")
    crawl.set_defaults(func=crawl_command)


def crawl_command(args: argparse.Namespace) -> int:
    from crawlers.runner import EXIT_BUSY, SourceBusy, crawl, source_lock
    from yuqing.commands import settings_from

    settings = settings_from(args)
    try:
        with source_lock(settings, args.source):
            result = crawl(settings, args.source, max_pages=args.max_pages, keywords=args.keywords,
                           ignore_robots=(args.source,) if args.ignore_robots else (),
                           verbose=bool(getattr(args, "verbose", False)))
    except SourceBusy as exc:
        print(f"跳过 skipped: {exc}")
        return EXIT_BUSY
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["healthy"] else 1
