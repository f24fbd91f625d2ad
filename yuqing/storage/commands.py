"""`yuqing store status|migrate|spool-status|spool-flush`: both stores' health, moving data between backends,
and the spool of posts waiting for the post index."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

INDEXES = {"sqlite": "sqlite", "es": "elasticsearch", "elasticsearch": "elasticsearch"}
CHOICES = sorted([*INDEXES, "sql"])


def register(sub: Any) -> None:
    store = sub.add_parser("store", help="storage: the post index and the OpsDB, migration, the spool")
    ssub = store.add_subparsers(dest="store_command", required=True)
    mig = ssub.add_parser(
        "migrate", help="copy data between stores (resumable)",
        description="--from sqlite|es --to es|sqlite: posts, events and label corrections between post indexes "
                    "(from es also the operational records an older Elasticsearch deployment kept, into the "
                    "OpsDB). --from es --to sql: only those operational records. --from sql --from-url URL "
                    "--to sql: every operational record of another OpsDB (e.g. this machine's SQLite file) into "
                    "the configured one (e.g. PostgreSQL). Records keep their ids; run again, it skips what moved.")
    mig.add_argument("--from", dest="source", choices=CHOICES, required=True)
    mig.add_argument("--to", dest="target", choices=CHOICES, required=True)
    mig.add_argument("--from-path", help="SQLite post index to read (default: [store] path)")
    mig.add_argument("--to-path", help="SQLite post index to write (default: [store] path)")
    mig.add_argument("--from-url", help="with --from sql: the OpsDB to read (sqlite:///var/yuqing.db, postgresql://…)")
    mig.add_argument("--batch", type=int, default=1000, help="posts per batch (default 1000)")
    mig.add_argument("--quiet", action="store_true", help="no progress bar")
    mig.set_defaults(func=migrate_command)
    status = ssub.add_parser("spool-status", help="posts waiting in the spool for the post index")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=spool_status_command)
    flush = ssub.add_parser("spool-flush", help="write the spooled posts to the post index now")
    flush.set_defaults(func=spool_flush_command)
    st = ssub.add_parser("status", help="which stores, whether they answer, how many posts, what is spooled")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=status_command)


def _index(settings: Any, backend: str, path: str | None) -> tuple[Any, str]:
    """A post index of the given backend and a stable name for it (used to key migration checkpoints)."""
    from yuqing.config import ConfigError
    from yuqing.wiring import open_index

    if backend == "elasticsearch":
        if not settings.store.es_url:
            raise ConfigError("environment YUQING_ES_URL: required to migrate to or from Elasticsearch")
        chosen = settings.replace(store={"backend": "elasticsearch"})
        return open_index(chosen), f"es:{settings.store.es_prefix}"
    chosen = settings.replace(store={"backend": "sqlite", "es_url": "", "path": path or settings.store.path})
    return open_index(chosen), f"sqlite:{chosen.store.path}"


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
    from yuqing.ops.sql import SqlOps
    from yuqing.wiring import open_ops

    settings = settings_from(args)
    progress = (lambda *a: None) if args.quiet else ProgressBar()
    if args.target == "sql" or args.source == "sql":
        if args.source == "sql" and args.target == "sql":
            return _copy_ops(settings, args, progress)
        if args.source in ("es", "elasticsearch") and args.target == "sql":
            return _es_ops(settings, progress)
        print("--to sql takes --from es (its operational records) or --from sql --from-url URL", file=sys.stderr)
        return 2
    source, src_name = _index(settings, INDEXES[args.source], args.from_path)
    target, dst_name = _index(settings, INDEXES[args.target], args.to_path)
    if src_name == dst_name:
        print(f"source and target are the same store ({src_name})", file=sys.stderr)
        return 2
    from yuqing.storage.copy import copy_index

    ops = open_ops(settings)
    try:
        report = copy_index(source, target, ops, name=src_name, batch=args.batch, progress=progress)
        if INDEXES[args.source] == "elasticsearch" and isinstance(ops, SqlOps):
            report.copied.update({f"ops:{k}": v for k, v in _import_es_ops(settings, ops, progress).items()})
    finally:
        source.close()
        target.close()
        ops.close()
    print(json.dumps({"from": src_name, "to": dst_name, "copied": report.copied, "skipped": report.skipped},
                     ensure_ascii=False))
    return 0


def _import_es_ops(settings: Any, ops: Any, progress: Any) -> dict[str, int]:
    from elasticsearch import Elasticsearch

    from yuqing.storage.es_ops import import_es_ops

    st = settings.store
    es = Elasticsearch(st.es_url, api_key=st.es_api_key or None, request_timeout=30)
    try:
        return import_es_ops(es, st.es_prefix, ops, progress=progress)
    finally:
        es.close()


def _es_ops(settings: Any, progress: Any) -> int:
    from yuqing.config import ConfigError, mask_url
    from yuqing.wiring import open_ops

    if not settings.store.es_url:
        raise ConfigError("environment YUQING_ES_URL: required to migrate from Elasticsearch")
    ops = open_ops(settings)
    try:
        copied = _import_es_ops(settings, ops, progress)
    finally:
        ops.close()
    print(json.dumps({"from": f"es:{settings.store.es_prefix}", "to": mask_url(settings.database_url),
                      "copied": copied}, ensure_ascii=False))
    return 0


def _copy_ops(settings: Any, args: argparse.Namespace, progress: Any) -> int:
    from yuqing.config import ConfigError, database_problem, mask_url
    from yuqing.ops.transfer import copy_database
    from yuqing.wiring import open_ops

    if not args.from_url:
        raise ConfigError("--from-url: required with --from sql (e.g. sqlite:///var/yuqing.db)")
    problem = database_problem(args.from_url)
    if problem:
        raise ConfigError(f"--from-url: {problem}")
    source_url = settings.replace(database={"url": args.from_url, "password": ""}).database_url
    if source_url == settings.database_url:
        print(f"source and target are the same database ({mask_url(source_url)})", file=sys.stderr)
        return 2
    ops = open_ops(settings)
    try:
        copied = copy_database(source_url, ops, progress=progress)  # type: ignore[arg-type]
    finally:
        ops.close()
    print(json.dumps({"from": mask_url(source_url), "to": mask_url(settings.database_url), "copied": copied},
                     ensure_ascii=False))
    return 0


def spool_status_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.index.spool import Spool

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
    from yuqing.index.spool import SpoolingWriter
    from yuqing.wiring import open_index

    settings = settings_from(args)
    index = open_index(settings)
    try:
        result = SpoolingWriter(index, settings.store.spool_dir).flush()
    finally:
        index.close()
    print(json.dumps(result.__dict__, ensure_ascii=False))
    return 1 if result.pending_segments else 0


def status_command(args: argparse.Namespace) -> int:
    from yuqing.commands import settings_from
    from yuqing.config import mask_url, masked
    from yuqing.errors import StoreError
    from yuqing.index import PostQuery
    from yuqing.index.spool import Spool
    from yuqing.wiring import open_index, open_ops

    settings = settings_from(args)
    backend = settings.store_backend
    where = masked(settings)["store"]["es_url"] if backend == "elasticsearch" else settings.store.path
    info: dict[str, Any] = {"backend": backend, "where": where, "reachable": False, "error": "", "posts": None}
    try:
        index = open_index(settings)
        try:
            index.ping()
            info.update(reachable=True, posts=index.count_posts(PostQuery()))
        finally:
            index.close()
    except StoreError as exc:
        info["error"] = str(exc)
    ops_info: dict[str, Any] = {"url": mask_url(settings.database_url), "reachable": False, "error": "",
                                "schema": ""}
    try:
        ops = open_ops(settings)
        try:
            ops.ping()
            ops_info.update(reachable=True, schema=ops.describe())
        finally:
            ops.close()
    except StoreError as exc:
        ops_info["error"] = str(exc)
    info["ops"] = ops_info
    spool = Spool(settings.store.spool_dir).status()
    info["spool"] = {"segments": spool.segments, "posts": spool.items, "dir": spool.directory,
                     "failed_segments": spool.failed_segments}
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        state = f"reachable, {info['posts']} posts" if info["reachable"] else f"UNREACHABLE: {info['error']}"
        print(f"post index {backend} at {where}: {state}")
        ops_state = f"reachable, {ops_info['schema']}" if ops_info["reachable"] else f"UNREACHABLE: {ops_info['error']}"
        print(f"OpsDB {ops_info['url']}: {ops_state}")
        print(f"spool {spool.directory}: {spool.segments} segments, {spool.items} posts waiting")
    for name, part in (("post index", info), ("OpsDB", ops_info)):
        if not part["reachable"]:
            print(f"存储不可用 store unavailable ({name}): {part['error']}", file=sys.stderr)
    return 0 if info["reachable"] and ops_info["reachable"] else 1
