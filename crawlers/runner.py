"""Run one source's crawl in this process: `python -m crawlers.runner weibo [--max-pages N]`.

A lock file per source (var/locks/<source>.lock) makes sure one source never runs twice at
once on this host, and a lease in the OpsDB (`crawl:<source>`) across the hosts sharing it; a Scrapy JOBDIR per source (var/jobs/<source>) lets a crawl stopped half-way (SIGTERM,
the scheduler's timeout) resume where it was; it is removed after a clean finish so the next run
starts from page 1 again, and discarded after a hard kill (see prepare_jobdir).
The process opens its stores once (yuqing.wiring) and hands them to the spider and the pipeline; the run is
recorded with ops.record_crawl_run; the last stdout line is one JSON summary.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

SPIDERS = {
    "weibo": "crawlers.spiders.weibo:WeiboSpider",
    "zhihu": "crawlers.spiders.zhihu:ZhihuSpider",
    "zhidao": "crawlers.spiders.zhidao:ZhidaoSpider",
    "heimao": "crawlers.spiders.heimao:HeimaoSpider",
    "tieba": "crawlers.spiders.tieba:TiebaSpider",
    "bilibili": "crawlers.spiders.bilibili:BilibiliSpider",
    "hotlist": "crawlers.spiders.hotlist:HotListSpider",  # the hot boards of [hotlists] (yuqing.vocab.HOT_SOURCE)
}
EXIT_BUSY = 75
CLEAN_STOP = "stopped-cleanly"
log = logging.getLogger(__name__)


class SourceBusy(Exception):
    """Another process is crawling this source."""


def var_dir(settings: Any) -> Path:
    """Where locks and job dirs live: beside the scheduler's job store (var/ by default)."""
    return Path(settings.crawl.jobstore).resolve().parent


@contextmanager
def source_lock(settings: Any, source: str) -> Iterator[IO[str]]:
    """An exclusive, non-blocking lock on var/locks/<source>.lock, released when the process ends."""
    path = var_dir(settings) / "locks" / f"{source}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SourceBusy(f"{source} is already being crawled (lock {path})") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield handle
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def crawl_lease(ops: Any, source: str) -> Iterator[None]:
    """The OpsDB lease `crawl:<source>`: one crawl of a source at a time across hosts sharing the database (the
    lock file above covers one host)."""
    from yuqing.ops.leases import held

    with held(ops, f"crawl:{source}") as mine:
        if not mine:
            raise SourceBusy(f"{source} is already being crawled (lease crawl:{source} held by another process)")
        yield


def prepare_jobdir(jobdir: Path, source: str) -> None:
    """Resume a crawl that was stopped cleanly; start over from one that was killed hard.

    Scrapy's on-disk queue can be torn by SIGKILL (a half-written record), and a torn queue silently
    drops requests. Starting over loses nothing: search pages are fetched again (they bypass the
    duplicate filter) and the store's writes are idempotent.
    """
    if not jobdir.exists():
        return
    marker = jobdir / CLEAN_STOP
    if marker.exists():
        log.info("resuming the interrupted %s crawl from %s", source, jobdir)
        marker.unlink()
        return
    log.warning("the last %s crawl was killed without a clean stop; its job state may be torn, so this run "
                "starts over (pages are fetched again, nothing is lost)", source)
    shutil.rmtree(jobdir, ignore_errors=True)


def page_count(value: str) -> int:
    """argparse type of --max-pages: a whole number of pages, at least 1."""
    try:
        pages = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pages, got {value!r}") from None
    if pages < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {pages}")
    return pages


def spider_class(source: str) -> type:
    from importlib import import_module

    if source not in SPIDERS:
        raise SystemExit(f"unknown source {source!r} (known: {', '.join(SPIDERS)})")
    module, _, name = SPIDERS[source].partition(":")
    return getattr(import_module(module), name)  # type: ignore[no-any-return]


def crawl(settings: Any, source: str, *, max_pages: int | None = None, keywords: str = "", politeness: bool = True,
          overrides: dict[str, Any] | None = None, ignore_robots: tuple[str, ...] = (),
          verbose: bool = False, stores: Any = None) -> dict[str, Any]:
    """Crawl one source to the end (or until it is blocked) and record the run; returns the summary.

    `stores` are the process's (index, ops) (yuqing.wiring); opened here and closed after when not given.
    Scrapy's own loggers log at its LOG_LEVEL setting (WARNING by default), at DEBUG when verbose.
    """
    if stores is None:
        from yuqing.wiring import open_stores

        with open_stores(settings) as opened:
            return crawl(settings, source, max_pages=max_pages, keywords=keywords, politeness=politeness,
                         overrides=overrides, ignore_robots=ignore_robots, verbose=verbose, stores=opened)
    index, ops = stores
    if max_pages is not None and max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, got {max_pages}")
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings as ScrapySettings

    from crawlers import settings as scrapy_defaults
    from crawlers.failures import close_abandoned
    from crawlers.health import crawl_run, summary
    from crawlers.pipelines import UNHEALTHY_STAT
    from crawlers.settings import scrapy_settings
    from yuqing.ops import runlog
    from yuqing.records import CrawlRun

    started = datetime.now(UTC)
    jobdir = var_dir(settings) / "jobs" / source
    values = scrapy_settings(settings, source, politeness=politeness, ignore_robots=ignore_robots,
                             JOBDIR=str(jobdir), **(overrides or {}))
    scrapy_conf = ScrapySettings()
    scrapy_conf.setmodule(scrapy_defaults, priority="project")
    scrapy_conf.update(values, priority="cmdline")
    prepare_jobdir(jobdir, source)
    runlog.flush(ops, settings.store.spool_dir)  # failures kept while the OpsDB was unavailable
    close_abandoned(ops, source, started)  # we hold the source's lock and lease: an open run is a dead one
    record = ops.record_crawl_run(CrawlRun(source=source, started_at=started))  # finished_at None: running
    scrapy_conf.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    level = logging.DEBUG if verbose else logging.getLevelName(str(scrapy_conf.get("LOG_LEVEL", "WARNING")).upper())
    level = level if isinstance(level, int) else logging.WARNING
    logging.disable(level - 1)  # Scrapy's start-up lines, logged while its config has set its loggers to DEBUG
    try:
        process = CrawlerProcess(scrapy_conf)
    finally:
        logging.disable(logging.NOTSET)
    logging.getLogger("scrapy").setLevel(level)
    if not verbose:  # jieba (the store's search tokenizer) logs its dictionary loading at DEBUG on its own handler
        import jieba

        jieba.setLogLevel(logging.WARNING)
    crawler = process.create_crawler(spider_class(source))
    kwargs: dict[str, Any] = {"keywords": keywords, "index": index, "ops": ops, "yq_settings": settings}
    if max_pages is not None:
        kwargs["max_pages"] = max_pages
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats()
    reason = getattr(crawler.spider, "unhealthy_reason", "") if crawler.spider else "spider did not start"
    reason = "; ".join(r for r in (reason, str(stats.get(UNHEALTHY_STAT) or "")) if r)
    run = crawl_run(source, stats, started_at=started, finished_at=datetime.now(UTC), unhealthy_reason=reason,
                    run_id=record.run_id)
    ops.record_crawl_run(run)
    if stats.get("finish_reason") == "finished":
        if run.healthy:
            ops.set_cursor(source, "last_success", started.isoformat(), datetime.now(UTC))
        shutil.rmtree(jobdir, ignore_errors=True)
    elif jobdir.exists():
        (jobdir / CLEAN_STOP).touch()  # stopped gracefully (SIGTERM, timeout, blocked): the next run resumes
    return run_summary(summary(run, stats), stats)


def run_summary(base: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
    """The run's summary with the pipeline's write counts beside posts_stored (inserted + updated):
    posts_updated (re-seen posts refreshed) and posts_unanalyzed (stored without analysis); a hot-list poll adds
    `hot`: entries read, watched entries, and how many were new, rising, steady, falling or gone."""
    out: dict[str, Any] = {}
    for key, value in base.items():
        out[key] = value
        if key == "posts_stored":
            out["posts_updated"] = int(stats.get("yuqing/posts_updated", 0))
            out["posts_unanalyzed"] = int(stats.get("yuqing/posts_unanalyzed", 0))
    hot = {k.removeprefix("yuqing/hot/"): int(v) for k, v in stats.items() if k.startswith("yuqing/hot/")}
    if hot:
        out["hot"] = hot
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.runner", description="crawl one source once")
    parser.add_argument("source", choices=sorted(SPIDERS))
    parser.add_argument("--config", help="settings file (default: $YUQING_CONFIG or ./yuqing.toml)")
    parser.add_argument("--max-pages", type=page_count, default=None, metavar="N",
                        help="pages per query, at least 1 (default: settings)")
    parser.add_argument("--keywords", default="", help="comma-separated search words (default: the watchlist)")
    parser.add_argument("--no-politeness", action="store_true", help="no delays, no robots.txt (benchmarks only)")
    parser.add_argument("--ignore-robots", action="store_true", help="do not obey robots.txt for this source")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, Scrapy's included")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from yuqing.config import ConfigError, load_settings
    from yuqing.errors import StoreError

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"配置错误 config error: {exc}", file=sys.stderr)
        return 2
    overrides = dict(item.split("=", 1) for item in args.set)
    from yuqing.wiring import open_stores

    try:
        with source_lock(settings, args.source), open_stores(settings) as stores, \
                crawl_lease(stores.ops, args.source):
            result = crawl(settings, args.source, max_pages=args.max_pages, keywords=args.keywords,
                           politeness=not args.no_politeness, overrides=overrides,
                           ignore_robots=(args.source,) if args.ignore_robots else (), verbose=args.verbose,
                           stores=stores)
    except SourceBusy as exc:
        print(json.dumps({"source": args.source, "skipped": str(exc)}, ensure_ascii=False))
        return EXIT_BUSY
    except StoreError as exc:  # no summary: the scheduler records the failure (locally while the store is down)
        print(f"存储不可用 store unavailable: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["healthy"] else 1


if __name__ == "__main__":
    sys.exit(main())
