"""`yuqing report daily|weekly|event` and the scheduled briefs.

Scheduled: every subscriber with a 日报 (mode "daily") is a report subscriber. At their daily_at (Asia/Shanghai)
they get the day before's 舆情日报, and on Mondays also the week before's 舆情周报, each as one outbox message
with the brief attached as PDF and Word and a link to download it from the dashboard's 报表 page. The message
goes through the OpsDB outbox like every alert email (stored first, keyed so it is queued once, delivered by
alerts.outbox on the "email" channel); a chat channel gets the same message, link included, on its own channel.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from reports import MIME, render, suffix_format
from reports.figures import KIND_ZH, Brief
from reports.layout import period_text
from reports.summary import sentences
from yuqing.config import Settings
from yuqing.index import PostIndex
from yuqing.ops import OpsDB
from yuqing.ops.subscribers import daily_time
from yuqing.records import OutboxMessage, Rejected, Subscriber, utc
from yuqing.timefmt import local

log = logging.getLogger(__name__)
ATTACH = ("pdf", "docx")  # what a report subscriber's email carries
WEEKLY_WEEKDAY = 0  # Monday: the week before's 周报 goes out with that day's 日报


def _day(text: str) -> date:
    """--date: a calendar day, refused in plain words (argparse exits 2 with this message)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效日期 not a date: {text!r} (YYYY-MM-DD, e.g. 2026-12-08)") from None


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="build a brief (舆情日报/周报/专报) as Word, PDF or HTML")
    p.add_argument("kind", choices=("daily", "weekly", "event"), help="daily | weekly | event (专报)")
    p.add_argument("event_id", nargs="?", default="", help="the event of a 专报 (or use --alert)")
    p.add_argument("--alert", type=int, help="专报 of this alert (its event, else its scope)")
    p.add_argument("--date", type=_day,
                   help="a day (YYYY-MM-DD, Asia/Shanghai) of the period; default: the last complete day or week")
    p.add_argument("--operator", default="", help="only posts mentioning this operator (e.g. 中国电信)")
    p.add_argument("--out", required=True, help="FILE.docx, FILE.pdf or FILE.html")
    p.set_defaults(func=report_command)


def build(index: PostIndex, ops: OpsDB, settings: Settings, kind: str, now: datetime, *, event_id: str = "",
          alert_id: int | None = None, day: date | None = None, operator: str = "") -> Brief:
    """The figures of one brief (yuqing.briefing); KeyError for an unknown event or alert, ValueError for a
    专报 without one."""
    from yuqing import briefing

    due = settings.dashboard.reply_due_minutes
    if kind != "event":
        return briefing.gather_period(index, ops, kind, now, day=day, operator=operator, due_minutes=due)
    if alert_id is not None:
        return briefing.gather_alert(index, ops, alert_id, now, due_minutes=due)
    if not event_id:
        raise ValueError("a 专报 needs an EVENT_ID or --alert ID")
    return briefing.gather_event(index, ops, event_id, now, operator=operator, due_minutes=due)


def report_command(args: argparse.Namespace) -> int:
    from yuqing import catalog
    from yuqing.commands import settings_from
    from yuqing.records import now_utc
    from yuqing.wiring import open_stores

    settings = settings_from(args)
    try:
        fmt = suffix_format(args.out)
    except ValueError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    if args.operator:
        try:
            known = catalog.operators(settings)
        except catalog.CatalogError:
            known = ()
        if known and args.operator not in known:
            print(f"错误 error: unknown operator {args.operator!r}; one of {', '.join(known)}", file=sys.stderr)
            return 2
    with open_stores(settings) as (index, ops):
        try:
            brief = build(index, ops, settings, args.kind, now_utc(), event_id=args.event_id, alert_id=args.alert,
                          day=args.date, operator=args.operator)
        except (KeyError, ValueError) as exc:
            print(f"错误 error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
    data = render(brief, fmt)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"{out}: {KIND_ZH[brief.kind]} {period_text(brief)}, {brief.totals.posts} posts, {len(data):,} bytes",
          file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------- schedule
def file_name(brief: Brief, fmt: str) -> str:
    day = local(brief.start).strftime("%Y%m%d")
    return f"{KIND_ZH[brief.kind]}_{day}{'_' + brief.operator if brief.operator else ''}.{fmt}"


def download_link(settings: Settings, kind: str, day: date) -> str:
    """Where the dashboard's 报表 page builds this brief for download."""
    return f"{settings.dashboard.base_url.rstrip('/')}/reports?{urlencode({'brief': kind, 'date': day.isoformat()})}"


def brief_message(brief: Brief, settings: Settings, to: tuple[str, ...], key: str, now: datetime,
                  channel: str = "email") -> OutboxMessage:
    """One brief as an outbox message: the summary and the download link as text, the brief attached (email)."""
    link = download_link(settings, brief.kind, local(brief.start).date())
    title = f"{KIND_ZH[brief.kind]}（{period_text(brief)}）"
    text = "\n\n".join([title, "".join(sentences(brief)), f"在线下载（需登录看板）：{link}",
                        "附件为 PDF 与 Word 版本。" if channel == "email" else ""]).strip() + "\n"
    attachments = tuple((file_name(brief, fmt), MIME[fmt], render(brief, fmt)) for fmt in ATTACH) \
        if channel == "email" else ()
    return OutboxMessage(to=to, subject=title, text=text, dedup_key=key, attachments=attachments, channel=channel,
                         link="" if channel == "email" else link, created_at=now, next_attempt_at=now)


def due_briefs(sub: Subscriber, now: datetime) -> list[tuple[str, date]]:
    """The briefs due for a report subscriber at `now`: (kind, a day of its period) for the latest daily_at."""
    from datetime import time

    from yuqing.timefmt import SHANGHAI

    clock = time.fromisoformat(daily_time(sub.daily_at))
    today = datetime.combine(local(now).date(), clock, SHANGHAI)
    at = today if today <= now else today - timedelta(days=1)
    out = [("daily", at.date() - timedelta(days=1))]
    if at.weekday() == WEEKLY_WEEKDAY:
        out.append(("weekly", at.date() - timedelta(days=7)))
    return out


def schedule_briefs(index: PostIndex, ops: OpsDB, settings: Settings, now: datetime) -> int:
    """Queue every brief that is due (idempotent: a mark per subscriber and kind, and the outbox's dedup key);
    a brief that fails is logged and recorded as rejected, and the other subscribers still get theirs."""
    now = utc(now)
    queued = 0
    built: dict[tuple[str, date], Brief] = {}
    for sub in ops.list_subscribers(active_only=True):
        try:
            daily_time(sub.daily_at)
        except ValueError:
            continue  # a bad daily_at is recorded and shown by the alert digests (alerts.email)
        if sub.mode != "daily":
            continue
        sid = sub.subscriber_id or 0
        for kind, day in due_briefs(sub, now):
            key = f"brief:{kind}:{sid}:{day.isoformat()}"
            if ops.get_mark(sid, f"brief-{kind}") == key:
                continue
            try:
                if (kind, day) not in built:
                    built[(kind, day)] = build(index, ops, settings, kind, now, day=day)
                chat = sub.channel != "email"  # a chat group gets the summary and the link, no attachment
                queued += int(ops.enqueue(brief_message(built[(kind, day)], settings,
                                                        (sub.channel,) if chat else (sub.email,), key, now,
                                                        channel=sub.channel)) is not None)
            except Exception as exc:  # one broken brief must not stop the others
                log.exception("brief %s for subscriber %s failed", key, sid)
                ops.record_rejected([Rejected(source="reports", stage="brief", reason=f"{key}: {exc}"[:500],
                                              sample=sub.email, at=now)])
            ops.set_mark(sid, f"brief-{kind}", key, now)
    return queued


BRIEF_JOB = "yuqing.briefs:briefs_job"
BRIEF_LEASE = "briefs"
BRIEF_INTERVAL = 300  # seconds between looks for a due brief; building one takes seconds


def briefs_job(config: str = "") -> dict[str, Any]:
    """Queue the briefs that are due (run by `yuqing run` every five minutes; the alert job delivers the mail). One
    process builds at a time (the OpsDB lease `briefs`); a store that is down is logged and tried again next time."""
    from datetime import UTC

    from yuqing.config import load_settings
    from yuqing.errors import StoreError
    from yuqing.ops.leases import held
    from yuqing.wiring import shared_stores

    settings = load_settings(config or None)
    try:
        index, ops = shared_stores(settings)
        with held(ops, BRIEF_LEASE) as mine:
            queued = schedule_briefs(index, ops, settings, datetime.now(UTC)) if mine else 0
    except StoreError as exc:
        log.error("简报任务：存储不可用 briefs skipped, store unavailable: %s", exc)
        return {"briefs": 0, "error": f"store unavailable: {exc}"}
    if queued:
        log.info("briefs: %d queued", queued)
    return {"briefs": queued}


def add_brief_job(scheduler: Any, config: str = "") -> None:
    from datetime import UTC

    scheduler.add_job(BRIEF_JOB, "interval", seconds=BRIEF_INTERVAL, id="briefs", name="scheduled briefs",
                      replace_existing=True, max_instances=1, coalesce=True, kwargs={"config": config},
                      next_run_time=datetime.now(UTC))
