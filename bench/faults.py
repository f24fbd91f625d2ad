"""Faults end to end with real parts: what is lost, what is doubled, where the failure shows, how long recovery takes.

Each scenario runs in its own temporary directory, everything on 127.0.0.1: the demo site (demo/server.py), real
`python -m crawlers.runner` processes, a real SQLite file, a real aiosmtpd server, real delivering processes.

  baseline        the weibo crawl of tests/crawlers/test_e2e_crawl.py with no faults (the reference)
  kill-crawl      that crawl with every response slowed, SIGKILLed after ~30 requests, then run again
  kill-delivery   50 queued emails, a slow SMTP server, the delivering process SIGKILLed mid-batch (half-way
                  through a message's DATA), then restarted on the same host
  kill-after-accept  the same, killed just after the server accepted a message and before the client read the 250:
                  the window no outbox can close (the restart sends that message again, with the same Message-ID)
  smtp-down       queued alert emails while nothing listens on the SMTP port; the server comes up; retried
  store-locked    a scheduled crawl (crawlers.schedule.run_crawl_job) while another connection holds BEGIN EXCLUSIVE
  store-readonly  the same with the database file immutable (chattr +i; skipped where chattr fails)
  crawl-crash     a crawl process that exits with a traceback

seconds: baseline = the crawl; kill-crawl = kill -> the rerun finished; kill-* delivery = kill -> every message
received; smtp-down = server up -> every message received; store-* = fault removed -> the next crawl finished
(busy_timeout_seconds = 1); crawl-crash = the crashed run until its failure was recorded.

Usage: python bench/faults.py [--only kill-crawl,smtp-down]; the last line is one JSON object. A measurement, not a
test: it never fails on a number (pytest does not collect it); it exits 1 only when a scenario could not be run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from alerts.outbox import backoff, deliver_due  # noqa: E402
from crawlers import schedule  # noqa: E402
from crawlers.failures import ABANDONED  # noqa: E402
from demo.scenario import Faults, load_scenario  # noqa: E402
from demo.server import DemoSite  # noqa: E402
from tests.crawlers.test_e2e_crawl import SCRAPY, START, findable, scenario, stored_keys  # noqa: E402
from yuqing.config import load_settings  # noqa: E402
from yuqing.ops import runlog  # noqa: E402
from yuqing.records import OutboxMessage  # noqa: E402
from yuqing.wiring import open_ops, open_stores  # noqa: E402

KILL_AFTER_REQUESTS = 30
EMAILS = 50
KILL_AFTER_RECEIVED = 10
SMTP_DELAY = 0.15  # seconds the SMTP server takes per message (DATA): slow enough to be killed mid-batch
ALERT_EMAILS = 10
DOWN_ROUNDS = 2  # delivery rounds while the SMTP server is down
CRAWL_ARGS = [*SCRAPY, "--set", "YUQING_PIPELINE_BATCH=20"]  # posts reach the store before the kill, so a rerun
# that stored them again would show as doubled
DELIVER = ("import sys; from datetime import UTC, datetime; from alerts.outbox import deliver_due; "
           "from yuqing.config import load_settings; from yuqing.wiring import open_ops; "
           "s = load_settings(sys.argv[1]); ops = open_ops(s); print(deliver_due(ops, s, datetime.now(UTC)), flush=True); "
           "ops.close()")
CRASH = "import json; json.loads('{\"card_group\": [')  # a crawl that dies with a traceback"


class Collected(logging.Handler):
    """Warnings and errors logged in this process (the outbox's, the scheduler's), kept instead of printed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def count(self, logger: str) -> int:
        return sum(r.name.startswith(logger) for r in self.records)


LOGS = Collected()


# ------------------------------------------------------------------ helpers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, urls: dict[str, str] | None = None, *, busy_timeout: float | None = None,
                 smtp_port: int | None = None) -> Path:
    """The settings of tests/crawlers/test_e2e_crawl.py, with the spool in `tmp` too."""
    lines = ["[store]", f'path = "{tmp / "yuqing.db"}"', f'spool_dir = "{tmp / "spool"}"']
    if busy_timeout is not None:
        lines.append(f"busy_timeout_seconds = {busy_timeout}")
    lines += ["[crawl]", f'jobstore = "{tmp / "var" / "s.db"}"', 'sources = ["weibo"]', "max_pages = 50",
              "autothrottle = false", "download_delay = 0", "concurrent_per_domain = 8", "timeout_seconds = 120",
              *(f'{p}_base_url = "{u}"' for p, u in (urls or {}).items())]
    if smtp_port is not None:
        lines += ["[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'sender = "yuqing@example.test"',
                  "timeout_seconds = 5"]
    path = tmp / "yuqing.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def child_env(config: Path) -> dict[str, str]:
    return {**os.environ, "YUQING_CONFIG": str(config)}


def runner(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`python -m crawlers.runner weibo` as the e2e test starts it (smaller store batches); stderr to a file nobody
    has to drain."""
    with log.open("ab") as err:
        return subprocess.Popen([sys.executable, "-m", "crawlers.runner", "weibo", *CRAWL_ARGS], cwd=ROOT,
                                env=child_env(config), stdout=subprocess.PIPE, stderr=err)


def yuqing(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(config), *argv], cwd=ROOT,
                          env={k: v for k, v in os.environ.items() if k != "YUQING_CONFIG"}, capture_output=True,
                          text=True, timeout=120)


def count_dropped(site: DemoSite) -> Counter[str]:
    """Requests the site could not answer because the client went away (a killed crawler's connections): counted
    by error type instead of socketserver printing a traceback for each."""
    dropped: Counter[str] = Counter()

    def handle_error(request: object, client_address: object) -> None:
        dropped[type(sys.exc_info()[1]).__name__] += 1

    for server in site._servers.values():  # the demo site's ThreadingHTTPServers
        server.handle_error = handle_error  # type: ignore[method-assign]
    return dropped


def weibo_expected(site: DemoSite) -> set[str]:
    return {k for k in findable(site) if k.startswith("weibo:")}


def counts(expected: set[str], keys: list[str]) -> dict[str, int]:
    return {"expected": len(expected), "stored": len(set(keys)), "lost": len(expected - set(keys)),
            "doubled": len(keys) - len(set(keys)), "unexpected": len(set(keys) - expected)}


def tail(path: Path, n: int = 2000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-n:] if path.exists() else ""


class SlowInbox:
    """An aiosmtpd handler that takes `delay` per message (DATA) before accepting it, and keeps the subject and
    Message-ID of what it accepted. With a victim pid it SIGKILLs that client once `kill_after` messages are in:
    "mid-data" half-way through the next message's DATA (the server has not answered), "after-accept" right after
    accepting the last of them, before the client has read the server's 250."""

    def __init__(self, delay: float, *, kill_after: int = 0, when: str = "") -> None:
        self.delay = delay
        self.kill_after = kill_after
        self.when = when
        self.victim = 0
        self.received: list[tuple[str, str]] = []  # (subject, Message-ID)

    def kill(self) -> None:
        if self.victim:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = 0

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        if self.when == "mid-data" and len(self.received) == self.kill_after:
            await asyncio.sleep(self.delay / 2)
            self.kill()  # aiosmtpd drops the message when the connection goes (this coroutine is cancelled)
            await asyncio.sleep(self.delay / 2)
        else:
            await asyncio.sleep(self.delay)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((str(msg["Subject"]), str(msg["Message-ID"])))
        if self.when == "after-accept" and len(self.received) == self.kill_after:
            self.kill()  # accepted here; the client dies before it can mark the message sent
        return "250 OK"

    @property
    def subjects(self) -> list[str]:
        return [subject for subject, _ in self.received]


def wait_for(check: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


# ------------------------------------------------------------------ scenarios

def baseline(tmp: Path) -> dict[str, Any]:
    with DemoSite(scenario(Faults({})), start=START) as site:
        config = write_config(tmp, site.base_urls)
        began = time.monotonic()
        proc = runner(config, tmp / "crawl.log")
        out, _ = proc.communicate(timeout=240)
        seconds = time.monotonic() - began
        summary = schedule.last_json(out.decode("utf-8", "replace"))
        result = counts(weibo_expected(site), stored_keys(config))
    return {**result, "seconds": round(seconds, 1), "returncode": proc.returncode, "requests": summary.get("requests"),
            "crawl_seconds": summary.get("seconds"), "visible": "-" if proc.returncode == 0 else "crawl failed"}


def kill_crawl(tmp: Path) -> dict[str, Any]:
    slow = Faults({"slow": 1.0}, slow_seconds=0.4, max_per_url=100)
    with DemoSite(scenario(slow), start=START) as site:
        config = write_config(tmp, site.base_urls)
        dropped = count_dropped(site)
        log = tmp / "crawl.log"
        proc = runner(config, log)
        wait_for(lambda: site.requests["weibo"] >= KILL_AFTER_REQUESTS, 120)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        killed_at = time.monotonic()
        at_kill = site.requests["weibo"]
        partial = stored_keys(config)
        before = json_rows(yuqing(config, "sources", "--json")).get("weibo", {})
        site.faults.faults.rates.clear()  # the rerun need not be slow
        proc = runner(config, log)
        out, _ = proc.communicate(timeout=240)
        seconds = time.monotonic() - killed_at
        keys = stored_keys(config)
        result = counts(weibo_expected(site), keys)
        shown = yuqing(config, "sources", "--json")
        after = json_rows(shown).get("weibo", {})
        ops = open_ops(load_settings(config))
        try:
            runs = ops.list_crawl_runs(source="weibo")
        finally:
            ops.close()
    failed = [r for r in runs if not r.healthy and r.reason == ABANDONED]
    killed = int(after.get("errors", {}).get("killed", 0))
    visible = (f"sources: killed={killed} after the rerun" if killed and failed else "NOT shown as a failed run")
    if before.get("healthy"):
        visible += "; OK until then"
    return {**result, "seconds": round(seconds, 1), "visible": visible, "requests_at_kill": at_kill,
            "connections_dropped_by_kill": dict(dropped),
            "stored_before_rerun": len(set(partial)), "rerun_returncode": proc.returncode,
            "runs": len(runs), "failed_runs": len(failed),
            "before_rerun_healthy": before.get("healthy"), "before_rerun_errors": before.get("errors"),
            "after_rerun_healthy": after.get("healthy"), "after_rerun_errors": after.get("errors"),
            "rerun_summary": {k: v for k, v in schedule.last_json(out.decode("utf-8", "replace")).items()
                              if k in ("posts_new", "posts_stored", "posts_updated", "requests", "seconds")},
            **({"log_tail": tail(log)} if proc.returncode != 0 else {})}


def json_rows(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    rows = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rows[row["source"]] = row
    return rows


def enqueue(config: Path, n: int, subject: str) -> None:
    ops = open_ops(load_settings(config))
    try:
        for i in range(n):
            ops.enqueue(OutboxMessage(to=(f"duty{i}@example.test",), subject=subject.format(i=i),
                                      text=f"{subject.format(i=i)}\n详见看板", dedup_key=f"bench:{subject}:{i}"))
    finally:
        ops.close()


def outbox(config: Path) -> list[OutboxMessage]:
    ops = open_ops(load_settings(config))
    try:
        return ops.list_outbox(limit=10_000)
    finally:
        ops.close()


def kill_delivery(tmp: Path, when: str) -> dict[str, Any]:
    """EMAILS queued; the delivering process SIGKILLed by the SMTP server at a chosen moment of its batch (see
    SlowInbox), then a restart on the same host."""
    port = free_port()
    config = write_config(tmp, smtp_port=port)
    enqueue(config, EMAILS, "第{i}封预警")
    inbox = SlowInbox(SMTP_DELAY, kill_after=KILL_AFTER_RECEIVED, when=when)
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        deliver = [sys.executable, "-c", DELIVER, str(config)]
        first = subprocess.Popen(deliver, cwd=ROOT, env=child_env(config), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        inbox.victim = first.pid
        first.wait(120)  # killed by the server mid-batch, and reaped: a restart on this host may take its lease over
        killed_at = time.monotonic()
        at_kill = len(inbox.received)
        unsent_at_kill = sum(m.sent_at is None for m in outbox(config))
        second = subprocess.Popen(deliver, cwd=ROOT, env=child_env(config), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        wait_for(lambda: len(set(inbox.subjects)) >= EMAILS or second.poll() is not None, 120)
        seconds = time.monotonic() - killed_at
        out, err = second.communicate(timeout=120)
        wait_for(lambda: len(set(inbox.subjects)) >= EMAILS, 2)  # what the server is still finishing
        time.sleep(2 * SMTP_DELAY)  # a late duplicate would land now
    finally:
        server.stop()
    received = Counter(inbox.subjects)
    expected = {f"第{i}封预警" for i in range(EMAILS)}
    twice = {subject for subject, n in received.items() if n > 1}
    same_id = all(len({mid for sub, mid in inbox.received if sub == subject}) == 1 for subject in twice)
    visible = "-" if not twice else "- (" + ("same Message-ID" if same_id else "different Message-IDs") + " twice)"
    return {"expected": EMAILS, "stored": len(set(received) & expected), "lost": len(expected - set(received)),
            "doubled": sum(received.values()) - len(received), "seconds": round(seconds, 1), "visible": visible,
            "killed": when, "first_exit": first.returncode, "received_at_kill": at_kill,
            "unsent_at_kill": unsent_at_kill, "duplicates_share_message_id": same_id if twice else None,
            "restart_sent": int(out.split()[-1]) if out.split() and out.split()[-1].isdigit() else None,
            "marked_sent": sum(m.sent_at is not None for m in outbox(config)),
            **({"restart_stderr": err[-1500:]} if second.returncode else {})}


def smtp_down(tmp: Path) -> dict[str, Any]:
    port = free_port()
    config = write_config(tmp, smtp_port=port)
    settings = load_settings(config)
    enqueue(config, ALERT_EMAILS, "【橙色预警】郑州 中国电信 宽带断网 #{i}")
    now = datetime.now(UTC)
    ops = open_ops(settings)
    inbox = SlowInbox(0.0)
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    try:
        warned = LOGS.count("alerts.outbox")
        sent_down = 0
        for attempt in range(1, DOWN_ROUNDS + 1):
            sent_down += deliver_due(ops, settings, now)  # nothing listens on the port
            now += backoff(attempt) + timedelta(seconds=1)
        warned = LOGS.count("alerts.outbox") - warned
        msgs = ops.list_outbox(limit=1000)
        failures = sum(m.attempts for m in msgs if m.sent_at is None)
        with_error = sum(bool(m.last_error) for m in msgs if m.sent_at is None)
        shown = yuqing(config, "alerts", "outbox", "--limit", "1000").stdout
        in_cli = sum("待发送" in line and "不可用" in line for line in shown.splitlines())
        server.start()
        began = time.monotonic()
        sent = deliver_due(ops, settings, now)  # the next round once the backoff has passed
        wait_for(lambda: len(inbox.subjects) >= ALERT_EMAILS, 10)
        seconds = time.monotonic() - began
        time.sleep(0.2)
        after = ops.list_outbox(limit=1000)
    finally:
        server.stop()
        ops.close()
    received = Counter(inbox.subjects)
    return {"expected": ALERT_EMAILS, "stored": len(received), "lost": ALERT_EMAILS - len(received),
            "doubled": sum(received.values()) - len(received), "seconds": round(seconds, 2),
            "visible": f"alerts outbox: {in_cli} with error; {warned} log warnings",
            "sent_while_down": sent_down, "failures_recorded": failures, "messages_with_last_error": with_error,
            "shown_by_alerts_outbox": in_cli, "log_warnings": warned, "sent_when_up": sent,
            "marked_sent": sum(m.sent_at is not None for m in after), "rounds_down": DOWN_ROUNDS}


def store_fault(tmp: Path, apply: Callable[[Path], Callable[[], None] | str]) -> dict[str, Any]:
    """A scheduled crawl while `apply` has made the store unusable, then the fault removed and the next crawl.
    `apply(db)` returns the function that removes the fault, or a reason to skip."""
    with DemoSite(load_scenario(), start=START) as site:  # the shipped scenario: crawler settings as deployed
        config = write_config(tmp, site.base_urls, busy_timeout=1)
        settings = load_settings(config)
        open_stores(settings).close()  # created and migrated, as `yuqing run` does before the first crawl
        remove = apply(Path(settings.store.path))
        if isinstance(remove, str):
            return {"skipped": remove}
        try:
            began = time.monotonic()
            failed = schedule.run_crawl_job("weibo", config=str(config), timeout=120)
            fail_seconds = time.monotonic() - began
            waiting = runlog.pending(settings.store.spool_dir)
            shown = yuqing(config, "sources")
        finally:
            remove()
        began = time.monotonic()
        good = schedule.run_crawl_job("weibo", config=str(config), timeout=240)
        seconds = time.monotonic() - began
        keys = stored_keys(config)
        result = counts(weibo_expected(site), keys)
        ops = open_ops(settings)
        try:
            runs = ops.list_crawl_runs(source="weibo")
        finally:
            ops.close()
    down = [line for line in shown.stdout.splitlines() if line.startswith("DOWN weibo")]
    in_store = [r for r in runs if not r.healthy and "存储不可用" in r.reason]
    left = runlog.pending(settings.store.spool_dir)
    visible = "+".join(p for p, ok in (("runlog", waiting), ("sources DOWN", down),
                                        ("store after next crawl", in_store and not left)) if ok) or "NOT shown"
    return {**result, "seconds": round(seconds, 1), "visible": visible,
            "failed_crawl": {"returncode": failed.get("returncode"), "recorded": failed.get("recorded"),
                             "seconds": round(fail_seconds, 1)},
            "kept_in_runlog": len(waiting), "sources_exit": shown.returncode,
            "sources_line": down[0][:300] if down else shown.stdout[-300:],
            "sources_stderr": shown.stderr.strip()[-300:],
            "failed_runs_in_store": len(in_store), "runlog_left": len(left),
            "next_crawl": {k: good.get(k) for k in ("returncode", "healthy", "posts_new", "seconds")}}


def locked(db: Path) -> Callable[[], None]:
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long write

    def release() -> None:
        holder.execute("ROLLBACK")
        holder.close()
    return release


def read_only(db: Path) -> Callable[[], None] | str:
    proc = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"chattr +i failed here ({(proc.stderr or proc.stdout).strip()[:120] or proc.returncode})"
    return lambda: subprocess.run(["chattr", "-i", str(db)], check=True)


def crawl_crash(tmp: Path) -> dict[str, Any]:
    config = write_config(tmp)
    open_stores(load_settings(config)).close()
    original = schedule.runner_command
    schedule.runner_command = lambda *a, **k: [sys.executable, "-c", CRASH]  # type: ignore[assignment]
    try:
        began = time.monotonic()
        result = schedule.run_crawl_job("weibo", config=str(config), timeout=60)
        seconds = time.monotonic() - began
    finally:
        schedule.runner_command = original  # type: ignore[assignment]
    shown = yuqing(config, "sources")
    line = next((x for x in shown.stdout.splitlines() if x.startswith("DOWN weibo")), "")
    reason = line.partition("reason: ")[2]
    tb = "Traceback" in reason and "JSONDecodeError" in reason
    return {"expected": None, "stored": None, "lost": None, "doubled": None, "seconds": round(seconds, 1),
            "visible": "sources DOWN + error tail" if line and tb else ("sources DOWN" if line else "NOT shown"),
            "returncode": result.get("returncode"), "recorded": result.get("recorded"),
            "sources_reason": reason[:60] + (f" … {reason[-80:]}" if len(reason) > 60 else "")}


# ------------------------------------------------------------------ main

def cell(value: Any) -> str:
    return "-" if value is None else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated scenarios to run (default: all)")
    args = parser.parse_args()
    os.chdir(ROOT)  # the scheduler starts `python -m crawlers.runner` in the current directory
    for key in [k for k in os.environ if k.startswith("YUQING_") and not k.startswith("YUQING_SENTIMENT_")]:
        del os.environ[key]  # only the settings files written here count, in this process and every child
    logging.getLogger().addHandler(LOGS)
    logging.getLogger().setLevel(logging.WARNING)
    began = time.monotonic()
    steps: list[tuple[str, Callable[[Path], dict[str, Any]]]] = [
        ("baseline", baseline), ("kill-crawl", kill_crawl), ("kill-delivery", lambda tmp: kill_delivery(tmp, "mid-data")),
        ("kill-after-accept", lambda tmp: kill_delivery(tmp, "after-accept")),
        ("smtp-down", smtp_down), ("store-locked", lambda tmp: store_fault(tmp, locked)),
        ("store-readonly", lambda tmp: store_fault(tmp, read_only)), ("crawl-crash", crawl_crash)]
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    if only - {n for n, _ in steps}:
        parser.error(f"unknown scenario(s) {sorted(only - {n for n, _ in steps})}; known: {[n for n, _ in steps]}")
    results: dict[str, dict[str, Any]] = {}
    for name, step in (s for s in steps if not only or s[0] in only):
        with tempfile.TemporaryDirectory(prefix=f"yuqing-faults-{name}-") as tmpdir:
            t0 = time.monotonic()
            try:
                results[name] = step(Path(tmpdir))
            except Exception as exc:  # a scenario that could not be measured is reported, the others still run
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            results[name]["wall_seconds"] = round(time.monotonic() - t0, 1)
        print(f"{name}: done in {results[name]['wall_seconds']}s", file=sys.stderr, flush=True)

    header = ("scenario", "expected", "stored/delivered", "lost", "doubled", "failure visible where", "seconds")
    rows = []
    for name, r in results.items():
        if "skipped" in r or "error" in r:
            rows.append((name, "-", "-", "-", "-", f"SKIPPED: {r['skipped']}" if "skipped" in r else
                         f"ERROR: {r['error']}"[:90], "-"))
        else:
            rows.append((name, cell(r["expected"]), cell(r["stored"]), cell(r["lost"]), cell(r["doubled"]),
                         r["visible"], cell(r["seconds"])))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print(" | ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())

    def ran(name: str) -> dict[str, Any] | None:
        r = results.get(name)
        return r if r is not None and "error" not in r and "skipped" not in r else None

    if k := ran("kill-crawl"):
        print(f"kill-crawl: killed after {k['requests_at_kill']} requests with {k['stored_before_rerun']} posts stored; "
              f"before the rerun `yuqing sources` showed weibo healthy={k['before_rerun_healthy']} "
              f"errors={k['before_rerun_errors']}; after it healthy={k['after_rerun_healthy']} "
              f"errors={k['after_rerun_errors']} ({k['failed_runs']} failed run of {k['runs']})")
    for name, moment in (("kill-delivery", "half-way through the DATA of the next message"),
                         ("kill-after-accept", "right after the server accepted a message, before its 250 was read")):
        if d := ran(name):
            print(f"{name}: killed {moment} ({d['received_at_kill']} received, {d['unsent_at_kill']} not marked "
                  f"sent); the restart sent {d['restart_sent']}; {d['marked_sent']}/{EMAILS} marked sent"
                  + (f"; the doubled message kept its Message-ID: {d['duplicates_share_message_id']}"
                     if d["doubled"] else ""))
    if s := ran("smtp-down"):
        print(f"smtp-down: {s['failures_recorded']} failed attempts recorded over {s['rounds_down']} rounds "
              f"({s['messages_with_last_error']} messages with last_error, {s['shown_by_alerts_outbox']} shown by "
              f"`yuqing alerts outbox`, {s['log_warnings']} log warnings); {s['sent_when_up']} sent once the server "
              "was up")
    for name in ("store-locked", "store-readonly"):
        if r := ran(name):
            f = r["failed_crawl"]
            print(f"{name}: the crawl exited {f['returncode']} after {f['seconds']}s, its run recorded in "
                  f"{f['recorded']} ({r['kept_in_runlog']} kept locally); `yuqing sources` exit {r['sources_exit']}, "
                  f"DOWN weibo, reason: {r['sources_line'].partition('reason: ')[2][:150]}; after the fault: "
                  f"{r['failed_runs_in_store']} failed run in the store, {r['runlog_left']} left in the run log")
    if c := ran("crawl-crash"):
        print(f"crawl-crash: exit {c['returncode']}, the run recorded in {c['recorded']}; `yuqing sources` shows "
              f"DOWN weibo, reason: {c['sources_reason']}")
    if b := ran("baseline"):
        print(f"reference, same run: the weibo crawl without faults stored {b['stored']} of {b['expected']} posts "
              f"in {b['seconds']}s ({b['requests']} requests)")
    measured = [r for r in results.values() if "error" not in r and "skipped" not in r and r.get("lost") is not None]
    summary = {"scenarios": results, "lost_total": sum(r["lost"] for r in measured),
               "doubled_total": sum(r["doubled"] for r in measured),
               "errors": sorted(n for n, r in results.items() if "error" in r),
               "skipped": sorted(n for n, r in results.items() if "skipped" in r),
               "wall_seconds": round(time.monotonic() - began, 1)}
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
