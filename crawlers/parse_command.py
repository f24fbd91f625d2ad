"""`yuqing parse FILE`: run a parser on a saved page and print one JSON object per post (per entry for a hot list)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yuqing.vocab import PLATFORMS


def register(sub: Any) -> None:
    parse = sub.add_parser("parse", help="parse a saved page and print its posts (or hot-list entries) as JSON lines")
    parse.add_argument("file", help="the saved page (JSON or HTML, any encoding)")
    parse.add_argument("--platform", choices=(*PLATFORMS, "hotlist"), help="default: guessed")
    parse.add_argument("--kind", help="page kind, e.g. search, extend, question, thread (with --platform; for "
                                      "--platform hotlist the board: weibo, baidu, zhihu, douyin); default: guessed")
    parse.add_argument("--url", default="", help="the page's URL (some parsers read ids and paging from it)")
    parse.add_argument("--now", default="", help="ISO time that anchors relative dates like 5分钟前 (default: now)")
    parse.set_defaults(func=parse_file)


def _key(body: bytes, url: str, platform: str | None, kind: str | None) -> str:
    from crawlers.parsers import PARSERS
    from crawlers.parsers.detect import detect

    if platform and kind:
        key = f"{platform}.{kind}"
    elif kind and "." in kind:
        key = kind
    else:
        key = detect(body, url)
        if platform and not key.startswith(platform + "."):
            raise KeyError(f"the page looks like {key}, not {platform}; pass --kind")
    if key not in PARSERS:
        raise KeyError(f"no parser {key!r}; known: {', '.join(sorted(PARSERS))}")
    return key


def parse_file(args: argparse.Namespace) -> int:
    from crawlers.parsers import PARSERS, Blocked, ParseError
    from crawlers.parsers.export import entry_dict, post_dict

    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"无法读取 cannot read {path}: {exc}", file=sys.stderr)
        return 2
    url = args.url or path.resolve().as_uri()
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    if now.tzinfo is None:
        print("--now needs a timezone, e.g. 2026-11-24T10:00:00+08:00", file=sys.stderr)
        return 2
    try:
        key = _key(body, url, args.platform, args.kind)
        result = PARSERS[key](body, url, now=now, meta=None)
    except KeyError as exc:
        print(f"无法解析 cannot parse {path}: {exc.args[0]}", file=sys.stderr)
        return 2
    except Blocked as exc:
        print(f"被拦截 blocked page {path}: {exc}", file=sys.stderr)
        return 3
    except ParseError as exc:
        print(f"无法解析 cannot parse {path}: {exc}", file=sys.stderr)
        return 1
    for post in result.posts:
        print(json.dumps(post_dict(post), ensure_ascii=False))
    for entry in result.entries:
        print(json.dumps(entry_dict(entry), ensure_ascii=False))
    for rejected in result.rejected:
        print(f"rejected ({rejected.stage}): {rejected.reason}", file=sys.stderr)
    cursor = json.dumps(dict(result.cursor), ensure_ascii=False, default=str)
    found = f"{len(result.entries)} entries" if key.startswith("hotlist.") else f"{len(result.posts)} posts"
    print(f"{key}: {found}, {len(result.rejected)} rejected, {len(result.requests)} follow-up "
          f"requests, cursor {cursor}", file=sys.stderr)
    return 0
