"""APScheduler (3.x) jobs: each source's crawl every N seconds as a subprocess with a timeout.

Jobs live in a persistent SQLAlchemy job store in the OpsDB (the `apscheduler_jobs` table of the database at
[database] url) under explicit ids (`crawl:weibo`...), with max_instances=1 and coalesce=True. Several
`yuqing run` processes, on several hosts, may share it: each runs due jobs, and the runner's lock file (one
host) and OpsDB lease `crawl:<source>` (every host) keep a source from being crawled twice at once. A job
carries no host's paths: it runs with the settings of the process that runs it ($YUQING_CONFIG).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawlers.failures import error_tail
from crawlers.skips import install as install_skip_counter
from crawlers.skips import summary_line

log = logging.getLogger(__name__)
CRAWL_JOB = "crawlers.schedule:run_crawl_job"
HOT_JOB = "crawlers.schedule:run_hotlist_job"
BUSY_WAIT = 2.0  # seconds between tries while the search source is being crawled by its own schedule
JOBS_TABLE = "apscheduler_jobs"  # created by the OpsDB migrations (yuqing.ops.tables), so processes starting at
# once never race to create it


def job_id(source: str) -> str:
    return f"crawl:{source}"


def runner_command(source: str, config: str = "", max_pages: int | None = None, keywords: str = "") -> list[str]:
    cmd = [sys.executable, "-m", "crawlers.runner", source]
    if config:
        cmd += ["--config", config]
    if max_pages:
        cmd += ["--max-pages", str(max_pages)]
    if keywords:
        cmd += ["--keywords", keywords]
    return cmd


def run_crawl_job(source: str, config: str = "", timeout: float | None = None, max_pages: int | None = None,
                  env: dict[str, str] | None = None, keywords: str = "") -> dict[str, Any]:
    """Run `python -m crawlers.runner SOURCE` and wait at most `timeout` seconds ([crawl] timeout_seconds of this
    process's settings when None); returns its JSON summary.

    A crawl that times out is killed with its process group; its JOBDIR lets the next run resume.
    """
    if timeout is None:
        from yuqing.config import load_settings

        timeout = float(load_settings(config or None).crawl.timeout_seconds)
    child_env = {**os.environ, **(env or {})}
    if config:
        child_env["YUQING_CONFIG"] = config
    started = datetime.now(UTC)
    proc = subprocess.Popen(runner_command(source, config, max_pages, keywords), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env, start_new_session=True, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        log.error("crawl %s timed out after %.0fs and was stopped; it resumes next time", source, timeout)
        found = _summary(out)
        if found is None:  # killed before it could record its run
            _record_failure(source, config, started, f"抓取超时（{timeout:.0f} 秒）被强制终止：{error_tail(err)}",
                            "timeout", err)
        return {**(found or {}), "source": source, "timeout": True, "returncode": proc.returncode}
    found = _summary(out)
    summary = {**(found or {}), "returncode": proc.returncode}
    summary.setdefault("source", source)
    if found is None or proc.returncode not in (0, 1, 75):
        summary["recorded"] = _record_failure(
            source, config, started, f"抓取进程异常退出（退出码 {proc.returncode}）：{error_tail(err)}", "crash", err)
    else:
        log.info("crawl %s: %s", source, json.dumps(summary, ensure_ascii=False))
    return summary


def _record_failure(source: str, config: str, started: datetime, reason: str, kind: str, stderr: str) -> str:
    """Log a crawl that ended without its summary, with its error output, and record it as a failed run."""
    from crawlers.failures import record_failed_crawl
    from yuqing.config import ConfigError, load_settings

    log.error("crawl %s ended without recording its run (%s); its error output ends with:\n%s", source, kind,
              error_tail(stderr, 4000))
    try:
        settings = load_settings(config or None)
    except ConfigError as exc:
        log.error("crawl %s: cannot record the failure, settings are invalid: %s", source, exc)
        return "log"
    return record_failed_crawl(settings, source, started, datetime.now(UTC), reason, kind)


def _summary(text: str) -> dict[str, Any] | None:
    """The crawl's JSON summary: the last line of `text` that is a JSON object (None when it printed none, i.e. it
    ended before recording its run)."""
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def last_json(text: str) -> dict[str, Any]:
    """The last line of `text` that is a JSON object ({} when none is)."""
    return _summary(text) or {}


def build_scheduler(settings: Any, *, blocking: bool = False, persistent: bool = True) -> Any:
    """A scheduler with the persistent job store in the OpsDB (settings.database_url) and one thread per source."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    if persistent:
        url = settings.database_url
        if url.startswith("sqlite:///"):  # normally created (and migrated) by the OpsDB before the scheduler starts
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        store: Any = SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE, engine_options=options)
    else:
        store = MemoryJobStore()
    cls = BlockingScheduler if blocking else BackgroundScheduler
    install_skip_counter()  # a run skipped because the last one is still going: counted, INFO now and then
    return cls(jobstores={"default": store},
               executors={"default": ThreadPoolExecutor(max_workers=len(settings.crawl.sources) + 3)},
               job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}, timezone=UTC)


def stop_scheduler(scheduler: Any, *, wait: bool = True) -> None:
    """Stop without submitting jobs to executors already shut down.

    APScheduler 3.x's scheduler thread runs one more round of due jobs after `shutdown()` wakes it (it checks
    for "paused", not "stopped"), so a crawl that came due while shutdown waited for running jobs was submitted
    to a closed executor and logged `RuntimeError: cannot schedule new futures after shutdown`. Pausing, then
    making that last round a no-op, ends the scheduler cleanly; running jobs still finish when `wait`."""
    if not scheduler.running:
        return
    scheduler.pause()
    scheduler._process_jobs = lambda: None  # the wake-up round after shutdown: nothing more to submit
    scheduler.shutdown(wait=wait)
    skipped = summary_line(install_skip_counter())
    if skipped:
        log.info("%s", skipped)


def add_crawl_jobs(scheduler: Any, settings: Any, *, config: str = "", start_now: bool = True,
                   max_pages: int | None = None) -> list[str]:
    """One interval job per configured source (replacing any stored one with the same id). `config` is kept in
    the job only for a scheduler of its own (the demo); shared schedules leave it "" so that each process runs
    the job with its own settings."""
    ids = []
    when = {"next_run_time": datetime.now(UTC)} if start_now else {}
    for source in settings.crawl.sources:
        scheduler.add_job(
            CRAWL_JOB, "interval", seconds=settings.crawl.interval_seconds, id=job_id(source),
            name=f"crawl {source}", replace_existing=True, max_instances=1, coalesce=True,
            kwargs={"source": source, "config": config, "max_pages": max_pages},
            **when,
        )
        ids.append(job_id(source))
    return ids


def hotlist_interval(settings: Any) -> int:
    """Seconds between hot-list polls: [crawl] hotlist_interval_seconds, else the watchlist's [hotlists]
    interval_seconds; 0 when the watchlist names no boards (no polling)."""
    from crawlers.watchlist import load_watchlist

    hot = load_watchlist(settings.crawl.watchlist).hotlists
    if not hot.boards:
        return 0
    return int(settings.crawl.hotlist_interval_seconds or hot.interval_seconds)


def add_hotlist_job(scheduler: Any, settings: Any, *, config: str = "", start_now: bool = True) -> str:
    """The hot-list poll every hotlist_interval seconds (job id `crawl:hotlist`); "" when no board is watched."""
    from yuqing.vocab import HOT_SOURCE

    seconds = hotlist_interval(settings)
    if not seconds:
        return ""
    when = {"next_run_time": datetime.now(UTC)} if start_now else {}
    scheduler.add_job(HOT_JOB, "interval", seconds=seconds, id=job_id(HOT_SOURCE), name="hot lists",
                      replace_existing=True, max_instances=1, coalesce=True, kwargs={"config": config, "wait": False},
                      **when)
    return job_id(HOT_SOURCE)


_SEARCHING = threading.Lock()  # one crawl-on-match search at a time in this process


def run_hotlist_job(config: str = "", timeout: float | None = None, *, wait: bool = True) -> dict[str, Any]:
    """Poll the hot lists (`python -m crawlers.runner hotlist`), then start the post search for the watched entries
    that appeared (crawl-on-match). With `wait` the poll's summary gets the search's as `searched`; without (the
    scheduler's job) the search runs in a thread of its own, so that a search waiting for the Weibo crawl never
    delays the next poll; a poll that finds a search still running leaves the new entries to the next one."""
    from yuqing.vocab import HOT_SOURCE

    summary = run_crawl_job(HOT_SOURCE, config, timeout)
    if not _SEARCHING.acquire(blocking=False):
        return summary
    if not wait:
        threading.Thread(target=_search_and_release, args=(config, timeout), name="hot-search", daemon=True).start()
        return summary
    searched = _search_and_release(config, timeout)
    if searched:
        summary["searched"] = searched
    return summary


def _search_and_release(config: str, timeout: float | None) -> dict[str, Any]:
    try:
        return search_new_entries(config, timeout)
    except Exception as exc:  # the poll is recorded; the entries stay pending for the next poll
        log.exception("hot lists: the search for new entries failed")
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        _SEARCHING.release()


def search_new_entries(config: str = "", timeout: float | None = None, *, wait: float = 120.0) -> dict[str, Any]:
    """Crawl-on-match: a Weibo search for the words of every listed entry whose search has not started (OpsDB
    hot_tracks.searched_at), run at once through the crawl runner. While the source's own scheduled crawl holds it,
    this waits (at most `wait` seconds) and tries again; still busy, the entries stay pending for the next poll."""
    import time

    from crawlers.hotpoll import SEARCH_SOURCE, search_words
    from crawlers.runner import EXIT_BUSY
    from yuqing.config import load_settings
    from yuqing.wiring import shared_stores

    settings = load_settings(config or None)
    ops = shared_stores(settings).ops
    pending = ops.hot_tracks_to_search()
    if not pending:
        return {}
    words = search_words(pending)
    if SEARCH_SOURCE not in settings.crawl.sources:
        log.warning("hot lists: %s is not crawled ([crawl] sources); no search for %s", SEARCH_SOURCE, words)
        ops.mark_hot_searched([t.track_id for t in pending if t.track_id], datetime.now(UTC))
        return {"words": words, "skipped": f"{SEARCH_SOURCE} is not among [crawl] sources"}
    deadline = time.monotonic() + wait
    log.info("hot lists: new watched entries, searching %s for %s", SEARCH_SOURCE, words)
    while True:
        started = datetime.now(UTC)
        result = run_crawl_job(SEARCH_SOURCE, config, timeout, keywords=",".join(words))
        if result.get("returncode") != EXIT_BUSY or time.monotonic() >= deadline:
            break
        time.sleep(BUSY_WAIT)
    if result.get("returncode") == EXIT_BUSY:
        return {"words": words, "pending": True}
    ops.mark_hot_searched([t.track_id for t in pending if t.track_id], started)
    return {"words": words, "source": SEARCH_SOURCE, "healthy": result.get("healthy"),
            "posts_found": result.get("posts_found", 0), "posts_new": result.get("posts_new", 0)}
