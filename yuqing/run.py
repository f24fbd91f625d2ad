"""`yuqing run` (scheduled crawls + alert evaluation + email delivery) and `yuqing demo`.

Besides yuqing/cli.py and yuqing/wiring.py the one module that may import several apps: it starts the
crawlers' scheduler, the alert engine and, for the demo, the demo site, a local SMTP server, a local
group-robot receiver (WeCom, DingTalk, Feishu, webhook) and the dashboard. Several `yuqing run` processes (on several hosts) may share one OpsDB and post index: the
schedule lives in the OpsDB, an alert evaluation holds the lease `alerts`, a crawl the lease `crawl:<source>`,
and email delivery claims each message for one process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
ALERT_JOB = "yuqing.run:alerts_job"
ALERT_LEASE = "alerts"
DEMO_SUBSCRIBER = "duty@yuqing-demo.local"
# The demo's chat channels: (name, platform, subscription filters); their keys and secrets are random per run,
# handed to every process of the demo in YUQING_DEMO_<NAME>_KEY / _SECRET.
DEMO_CHANNELS = (
    ("henan-duty", "wecom", {"regions": ("河南",), "min_severity": "blue",
                             "mentions": ("13800138000",)}),  # 河南值班群: red and orange @ the duty phone
    ("pr-team", "dingtalk", {"min_severity": "orange", "mentions": ("all",),
                             "mention_min_severity": "red"}),  # 公关部（actionCard）: red @所有人
    ("lark-ops", "feishu", {"min_severity": "blue"}),  # 运维群
    ("tickets", "webhook", {"min_severity": "orange"}),  # 工单系统
)


def alerts_job(config: str = "") -> dict[str, Any]:
    """Evaluate the alert rules, queue messages, deliver the due emails and chat messages (run by the scheduler
    every M seconds).

    The evaluation holds the OpsDB lease `alerts` (one evaluation at a time across processes and hosts; a
    process that finds it held skips its turn); delivery claims messages, so every process delivers. A store
    that is down, locked, read-only or corrupt is logged as one clear error and reported in the result; the next
    evaluation tries again."""
    from alerts.chat import deliver_chat
    from alerts.engine import run_once
    from alerts.outbox import deliver_due
    from yuqing.config import load_settings
    from yuqing.errors import StoreError
    from yuqing.ops.leases import held
    from yuqing.wiring import shared_stores

    settings = load_settings(config or None)
    try:
        index, ops = shared_stores(settings)
    except StoreError as exc:
        log.error("预警任务：存储不可用 alert evaluation skipped, store unavailable: %s", exc)
        return {"fired": 0, "sent": 0, "error": f"store unavailable: {exc}"}
    fired: list[Any] = []
    sent = chat = 0
    error = ""
    evaluated = False
    try:
        with held(ops, ALERT_LEASE) as mine:
            if mine:
                evaluated = True
                fired = run_once(index, ops, settings, datetime.now(UTC))
    except StoreError as exc:
        error = f"store unavailable: {exc}"
        log.error("预警任务：存储不可用 alert evaluation failed, store unavailable: %s", exc)
    finally:  # mail already queued goes out even when this evaluation fails or another process evaluates
        try:
            sent = deliver_due(ops, settings, datetime.now(UTC))
            chat = deliver_chat(ops, settings)
        except StoreError as exc:
            error = error or f"store unavailable: {exc}"
            log.error("预警任务：存储不可用 email/chat delivery failed, store unavailable: %s", exc)
    if fired or sent or chat:
        log.info("alerts: %d fired, %d emails and %d chat messages delivered", len(fired), sent, chat)
    return {"fired": len(fired), "sent": sent, "chat_sent": chat, "evaluated": int(evaluated),
            **({"error": error} if error else {})}


def add_alert_job(scheduler: Any, settings: Any, config: str = "") -> None:
    scheduler.add_job(ALERT_JOB, "interval", seconds=settings.alerts.interval_seconds, id="alerts",
                      name="alerts and email", replace_existing=True, max_instances=1, coalesce=True,
                      kwargs={"config": config}, next_run_time=datetime.now(UTC))


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="crawl every source on schedule, evaluate alerts, send emails")
    run.add_argument("--once", action="store_true", help="crawl each source once, evaluate alerts once, exit")
    run.set_defaults(func=run_command)

    demo = sub.add_parser("demo", help="the whole system against a local demo site, with a local mail server")
    demo.add_argument("--duration", type=float, default=0, help="stop after this many seconds (default: until Ctrl-C)")
    demo.add_argument("--no-dashboard", action="store_true", help="do not start the Streamlit dashboard")
    demo.add_argument("--keep", action="store_true", help="keep the demo data of the last run")
    demo.add_argument("--scenario", default=None, help="scenario name or YAML path (default: demo/scenarios/default)")
    demo.add_argument("--data-dir", default="var/demo", help="where the demo store, settings and jobs live")
    demo.add_argument("--mail-dir", default="var/mail", help="where received emails are written as .eml files")
    demo.add_argument("--chat-dir", default="var/chat", help="where the local group-robot receiver writes what "
                                                             "it receives (.json)")
    demo.add_argument("--crawl-interval", type=int, default=15, help="seconds between crawls of a source")
    demo.add_argument("--alert-interval", type=int, default=5, help="seconds between alert evaluations")
    demo.add_argument("--hot-interval", type=int, default=5, help="seconds between hot-list polls")
    demo.set_defaults(func=demo_command)


def _config_path(settings: Any) -> str:
    return str(Path(settings.source_file).resolve()) if settings.source_file else ""


def run_command(args: argparse.Namespace) -> int:
    from crawlers.schedule import (
        add_crawl_jobs,
        add_hotlist_job,
        build_scheduler,
        hotlist_interval,
        run_crawl_job,
        run_hotlist_job,
        stop_scheduler,
    )
    from yuqing.briefs import add_brief_job, briefs_job
    from yuqing.commands import settings_from
    from yuqing.wiring import shared_stores

    settings = settings_from(args)
    config = _config_path(settings)
    if config:  # the jobs (and the crawl subprocesses) of this process read its settings, whoever scheduled them
        os.environ["YUQING_CONFIG"] = config
    shared_stores(settings)  # open (create or migrate) both stores before the crawl processes open them
    if args.once:
        results = [run_crawl_job(s, config, float(settings.crawl.timeout_seconds)) for s in settings.crawl.sources]
        if hotlist_interval(settings):
            results.append(run_hotlist_job(config, float(settings.crawl.timeout_seconds)))
        results.append(briefs_job(config))
        results.append(alerts_job(config))
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    scheduler = build_scheduler(settings, blocking=True)
    add_crawl_jobs(scheduler, settings)
    hot = add_hotlist_job(scheduler, settings)
    add_alert_job(scheduler, settings)
    add_brief_job(scheduler)  # 日报/周报 for report subscribers, delivered by the alert job's mail path
    signal.signal(signal.SIGTERM, lambda *_: stop_scheduler(scheduler, wait=False))
    print(f"scheduler running: sources {', '.join(settings.crawl.sources)} every {settings.crawl.interval_seconds}s, "
          + (f"hot lists every {hotlist_interval(settings)}s, " if hot else "")
          + f"alerts every {settings.alerts.interval_seconds}s; schedule and leases in the OpsDB", file=sys.stderr)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        stop_scheduler(scheduler, wait=False)
    return 0


# --------------------------------------------------------------------------------------------- demo
def _demo_chat(chat_dir: Path) -> tuple[Any, list[str]]:
    """The local group-robot receiver with one robot per demo channel (random keys and secrets, put in this
    process's environment for every demo process) and the [channels.NAME] lines pointing at it."""
    import secrets

    from demo.chatbot import ChatReceiver, Robot

    creds = {name: (secrets.token_hex(16), "SEC" + secrets.token_hex(24)) for name, _, _ in DEMO_CHANNELS}
    receiver = ChatReceiver([Robot(p, n if p == "webhook" else creds[n][0], creds[n][1]) for n, p, _ in DEMO_CHANNELS],
                            chat_dir, echo=True).start()
    lines = []
    for name, platform, _ in DEMO_CHANNELS:
        var = f"YUQING_DEMO_{name.upper().replace('-', '_')}"
        os.environ[f"{var}_SECRET"] = creds[name][1]
        lines += [f"[channels.{name}]", f'type = "{platform}"', f'secret_env = "{var}_SECRET"']
        if platform == "webhook":
            lines.append(f'base_url = "{receiver.url}/webhook/{name}"')
        else:
            os.environ[f"{var}_KEY"] = creds[name][0]
            lines += [f'key_env = "{var}_KEY"', f'base_url = "{receiver.url}"']
        if platform == "dingtalk":
            lines.append('msg_type = "actionCard"')
    return receiver, lines


def _demo_settings_file(data: Path, site_urls: dict[str, str], smtp_port: int, dashboard_port: int,
                        args: argparse.Namespace, chat_lines: tuple[str, ...] | list[str] = (),
                        hot_url: str = "") -> Path:
    """A settings file for every process of the demo (children get it through YUQING_CONFIG)."""
    lines = [
        "# written by `yuqing demo`: the demo site, store and mail server of this run",
        "[store]", f'path = "{data / "yuqing.db"}"', f'spool_dir = "{data / "spool"}"',
        "[crawl]", f"interval_seconds = {args.crawl_interval}", "timeout_seconds = 120",
        f'jobstore = "{data / "scheduler.db"}"', "max_pages = 3",
        "obey_robots = true", "autothrottle = false", "download_delay = 0.05", "concurrent_per_domain = 4",
        *(f'{p}_base_url = "{u}"' for p, u in site_urls.items()),
        *([f'hotlist_base_url = "{hot_url}"', f"hotlist_interval_seconds = {args.hot_interval}"] if hot_url else []),
        "[alerts]", f"interval_seconds = {args.alert_interval}",
        "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", 'sender = "yuqing-demo@localhost"',
        "timeout_seconds = 5.0",
        "[dashboard]", f"port = {dashboard_port}", f'base_url = "http://127.0.0.1:{dashboard_port}"',
        *chat_lines,
    ]
    path = data / "yuqing.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _clean_env_for(config: Path) -> None:
    """Children read the demo file; environment settings that would override it are dropped."""
    for key in list(os.environ):
        if key.startswith(("YUQING_STORE_", "YUQING_DATABASE_", "YUQING_CRAWL_", "YUQING_SMTP_", "YUQING_ALERTS_",
                           "YUQING_DASHBOARD_")) \
                or key == "YUQING_ES_URL":
            os.environ.pop(key)
    os.environ["YUQING_CONFIG"] = str(config)


def _prepare(data: Path, mail: Path, keep: bool, chat: Path | None = None) -> None:
    if not keep:
        for old in chat.glob("*.json") if chat else ():
            old.unlink()
        for name in ("yuqing.db", "yuqing.db-wal", "yuqing.db-shm", "scheduler.db"):
            (data / name).unlink(missing_ok=True)
        for name in ("jobs", "locks", "spool"):
            shutil.rmtree(data / name, ignore_errors=True)
        for old in mail.glob("*.eml"):
            old.unlink()
    data.mkdir(parents=True, exist_ok=True)


def _seed(settings: Any) -> str:
    """The demo's subscriber and an admin login with a fresh random password."""
    from dashboard.users import add_user, generate_password
    from yuqing.records import Subscriber
    from yuqing.wiring import shared_stores

    ops = shared_stores(settings).ops
    if not any(s.email == DEMO_SUBSCRIBER for s in ops.list_subscribers()):
        ops.save_subscriber(Subscriber(email=DEMO_SUBSCRIBER, name="值班主管", min_severity="blue"))
    subscribed = {s.channel for s in ops.list_subscribers()}
    for name, _, filters in DEMO_CHANNELS:
        if name not in subscribed:
            ops.save_subscriber(Subscriber(email="", channel=name, name=name, **filters))  # type: ignore[arg-type]
    password = generate_password()
    add_user(ops, "demo", password, "admin", "演示管理员")
    return password


def demo_totals(settings: Any, emails_delivered: int, chat_delivered: int = 0) -> dict[str, int | None]:
    from crawlers.skips import install
    from yuqing.index import PostQuery
    from yuqing.wiring import shared_stores

    index, ops = shared_stores(settings)
    crawled = sum(h.posts_found for h in ops.source_health())
    stored = index.count_posts(PostQuery())
    alerts = ops.list_alerts(limit=10000)
    tracks = ops.list_hot_tracks(limit=10000)
    return {"posts_crawled": crawled, "posts_stored": stored, "alerts_opened": len(alerts),
            "alerts_merged": sum(1 for a in alerts if a.resolved_by == "system"),  # alerts.eventmerge's fold
            "emails_delivered": emails_delivered, "chat_messages_delivered": chat_delivered,
            "hot_entries_tracked": len(tracks),
            "hot_list_alerts": sum(1 for a in alerts if a.rule_type == "hot_list"),
            "hot_best_weibo_rank": min((t.best_rank for t in tracks if t.board == "weibo"), default=None),
            "scheduled_runs_skipped": install().total()}  # a job still running when due again (crawlers.skips)


def _demo_secrets_file(data: Path) -> Path:
    """The demo robots' keys and secrets (random each run, in this process's environment) as a file only its owner
    can read, so commands in another shell can reach the demo's chat channels: `set -a; . FILE; set +a`."""
    path = data / "demo.env"
    lines = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("YUQING_DEMO_")]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# the demo's chat-robot keys and secrets for this run (`set -a; . this file; set +a`)\n")
        fh.write("\n".join(lines) + "\n")
    return path


def _die_with_parent() -> None:
    """In the dashboard's process before it starts: end it when the demo ends, however the demo ends (Linux
    PR_SET_PDEATHSIG; elsewhere the demo's own cleanup stops it)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def demo_command(args: argparse.Namespace) -> int:
    from crawlers.schedule import add_crawl_jobs, add_hotlist_job, build_scheduler, stop_scheduler
    from demo.scenario import load_scenario
    from demo.server import DemoSite
    from demo.smtp import MailServer, _free_port
    from yuqing.briefs import add_brief_job
    from yuqing.config import load_settings

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    data = Path(args.data_dir).resolve()
    mail_dir = Path(args.mail_dir).resolve()
    chat_dir = Path(args.chat_dir).resolve()
    _prepare(data, mail_dir, args.keep, chat_dir)
    scenario = load_scenario(args.scenario)
    site = DemoSite(scenario)
    urls = site.start_servers()
    mail = MailServer(mail_dir).start()
    chat, chat_lines = _demo_chat(chat_dir)
    secrets_file = _demo_secrets_file(data)
    dashboard_port = _free_port("127.0.0.1")
    config = _demo_settings_file(data, urls, mail.port, dashboard_port, args, chat_lines,
                                 next(iter(site.board_urls.values()), ""))
    _clean_env_for(config)
    settings = load_settings(config)
    password = _seed(settings)
    scheduler = build_scheduler(settings)
    add_crawl_jobs(scheduler, settings, config=str(config))
    add_hotlist_job(scheduler, settings, config=str(config))
    add_alert_job(scheduler, settings, str(config))
    add_brief_job(scheduler, str(config))
    dashboard = None
    print(f"演示站点 demo site: {json.dumps(urls)}  scenario {scenario.name!r} speed x{scenario.speed:g} "
          f"started {site.start.isoformat()}", file=sys.stderr)
    print(f"邮件 mail: SMTP 127.0.0.1:{mail.port}, received messages in {mail_dir}/*.eml", file=sys.stderr)
    print(f"群机器人 chat robots: {chat.url} ({', '.join(f'{n} {p}' for n, p, _ in DEMO_CHANNELS)}), "
          f"received messages in {chat_dir}/*.json", file=sys.stderr)
    if not args.no_dashboard:
        from dashboard.commands import APP, streamlit_argv

        dashboard = subprocess.Popen(streamlit_argv(APP, dashboard_port, "127.0.0.1"), env=dict(os.environ),
                                     stdout=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        print(f"仪表盘 dashboard: http://127.0.0.1:{dashboard_port}  登录 login: demo / {password}", file=sys.stderr)
    else:
        print(f"登录 login (for `yuqing dashboard --config {config}`): demo / {password}", file=sys.stderr)
    print(f"群机器人密钥 chat-robot keys for commands in another shell: set -a; . {secrets_file}; set +a",
          file=sys.stderr)
    print(f"命令行 CLI on the demo's data: yuqing --config {config} sources | alerts list | store status …  "
          "(每次启动演示都会清空上次的数据与邮件 each start clears the last run's data and mail; --keep keeps them)",
          file=sys.stderr)
    def interrupted(*_: object) -> None:  # the first SIGINT or SIGTERM stops the demo; any later one is ignored
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupted)
    scheduler.start()
    try:
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping…", file=sys.stderr)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # the run ended by its duration: no signal cuts the cleanup short
            signal.signal(sig, signal.SIG_IGN)
        stop_scheduler(scheduler)  # running crawls finish; their subprocesses have their own timeout
        try:
            alerts_job(str(config))  # a last evaluation and delivery so the totals are settled
        finally:
            if dashboard is not None:
                os.killpg(dashboard.pid, signal.SIGTERM)
                dashboard.wait(timeout=15)
            mail.stop()
            chat.stop()
            site.stop()
    print(json.dumps(demo_totals(settings, mail.sink.count, chat.count)), flush=True)
    return 0
