"""`yuqing store migrate|spool-status|spool-flush`: move data between stores and replay the spool."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

BACKENDS = {"sqlite": "sqlite", "es": "elasticsearch", "elasticsearch": "elasticsearch"}


def register(sub: Any) -> None:
    store = sub.add_parser("store", help="storage: migrate between SQLite and Elasticsearch, the spool")
    ssub = store.add_subparsers(dest="store_command", required=True)
    mig = ssub.add_parser("migrate", help="copy everything from one store to another (resumable)")
    mig.add_argument("--from", dest="source", choices=sorted(BACKENDS), required=True)
    mig.add_argument("--to", dest="target", choices=sorted(BACKENDS), required=True)
    mig.add_argument("--from-path", help="SQLite file to read (default: [store] path)")
    mig.add_argument("--to-path", help="SQLite file to write (default: [store] path)")
    mig.add_argument("--batch", type=int, default=1000, help="posts per batch (default 1000)")
    mig.add_argument("--quiet", action="store_true", help="no progress bar")
    mig.set_defaults(func=migrate_command)
    status = ssub.add_parser("spool-status", help="posts waiting in the spool for the store")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=spool_status_command)
    flush = ssub.add_parser("spool-flush", help="write the spooled posts to the store now")
    flush.set_defaults(func=spool_flush_command)
    st = ssub.add_parser("status", help="which store, whether it answers, how many posts, what is spooled")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=status_command)


def _open(settings: Any, backend: str, path: str | None) -> tuple[Any, str]:
    """A store of the given backend and a stable name for it (used to key migration checkpoints)."""
    from yuqing.config import ConfigError
    from yuqing.store import open_store

    if backend == "elasticsearch":
        if not settings.store.es_url:
            raise ConfigError("environment YUQING_ES_URL: required to migrate to or from Elasticsearch")
        chosen = settings.replace(store={"backend": "elasticsearch"})
        return open_store(chosen), f"es:{settings.store.es_prefix}"
    chosen = settings.replace(store={"backend": "sqlite", "es_url": "", "path": path or settings.store.path})
    return open_store(chosen), f"sqlite:{chosen.store.path}"


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, stream: Any = None, width: int = 30) -> None:
        # sys.stderr is looked up now, not at import: it may have been replaced since (pytest, daemons)
        self.stream, self.width, self.last = stream or sys.stderr, width, 0.0

    def __call__(self, kind: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * self.width)
        self.stream.write(f"\r{kind:12} [{bar:<{self.width}}] {done}/{total} {frac:4.0%}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def migrate_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.store.migrate import migrate

    settings = settings_from(args)
    src_backend, dst_backend = BACKENDS[args.source], BACKENDS[args.target]
    source, src_name = _open(settings, src_backend, args.from_path)
    target, dst_name = _open(settings, dst_backend, args.to_path)
    if src_name == dst_name:
        print(f"source and target are the same store ({src_name})", file=sys.stderr)
        return 2
    try:
        report = migrate(source, target, name=src_name, batch=args.batch,
                         progress=(lambda *a: None) if args.quiet else ProgressBar())
    finally:
        source.close()
        target.close()
    print(json.dumps({"from": src_name, "to": dst_name, "copied": report.copied, "skipped": report.skipped},
                     ensure_ascii=False))
    return 0


def spool_status_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.store.spool import Spool

    st = Spool(settings_from(args).store.spool_dir).status()
    if args.json:
        print(json.dumps(st.__dict__, ensure_ascii=False))
    else:
        print(f"spool {st.directory}: {st.segments} segments, {st.items} posts, {st.bytes} bytes"
              + (f", oldest {st.oldest}" if st.oldest else "")
              + (f"; {st.failed_segments} segments set aside (failed-*.jsonl)" if st.failed_segments else ""))
    return 0


def spool_flush_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.store import open_store
    from yuqing.store.spool import SpoolingWriter

    settings = settings_from(args)
    store = open_store(settings)
    try:
        result = SpoolingWriter(store, settings.store.spool_dir).flush()
    finally:
        store.close()
    print(json.dumps(result.__dict__, ensure_ascii=False))
    return 1 if result.pending_segments else 0


def status_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.config import masked
    from yuqing.store import open_store
    from yuqing.store.base import PostQuery, StoreError
    from yuqing.store.spool import Spool

    settings = settings_from(args)
    backend = settings.store_backend
    where = masked(settings)["store"]["es_url"] if backend == "elasticsearch" else settings.store.path
    info: dict[str, Any] = {"backend": backend, "where": where, "reachable": False, "error": "", "posts": None}
    try:
        store = open_store(settings)
        try:
            store.ping()
            info.update(reachable=True, posts=store.count_posts(PostQuery()))
        finally:
            store.close()
    except StoreError as exc:
        info["error"] = str(exc)
    spool = Spool(settings.store.spool_dir).status()
    info["spool"] = {"segments": spool.segments, "posts": spool.items, "dir": spool.directory,
                     "failed_segments": spool.failed_segments}
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        state = f"reachable, {info['posts']} posts" if info["reachable"] else f"UNREACHABLE: {info['error']}"
        print(f"store {backend} at {where}: {state}")
        print(f"spool {spool.directory}: {spool.segments} segments, {spool.items} posts waiting")
    if not info["reachable"]:
        print(f"存储不可用 store unavailable: {info['error']}", file=sys.stderr)
    return 0 if info["reachable"] else 1
