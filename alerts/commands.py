"""`yuqing alerts …`: run-once, backtest, test-email, rules, list/ack/resolve/silence, subscribers, outbox (the
chat channels' commands are alerts.chat_commands)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta
from typing import Any

from yuqing.commands import cli_actor, settings_from

SEVERITY_CHOICES = ("blue", "yellow", "orange", "red")
ALL_ALERTS = 1_000_000  # `list` sorts every matching alert by opening time (one per rule and key: few)


ACTION_ZH = {"new": "新预警", "raise": "级别升级", "reopen": "再次出现", "update": "持续", "suppressed": "已抑制"}


def action_zh(action: str) -> str:
    return ACTION_ZH.get(action, action)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.replace("，", ",").split(",") if v.strip())


def _time(value: str) -> datetime:
    """ISO time; without a zone it is read as Asia/Shanghai."""
    from yuqing.timefmt import SHANGHAI

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {value!r} (e.g. 2026-11-24T08:00)") from None
    return t if t.tzinfo else t.replace(tzinfo=SHANGHAI)


def _duration(value: str) -> timedelta:
    m = re.fullmatch(r"(\d+)\s*([smhd]?)", value.strip())
    if not m or int(m.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a duration: {value!r} (e.g. 90s, 5m, 2h, 1d)")
    return timedelta(seconds=int(m.group(1)) * {"s": 1, "": 60, "m": 60, "h": 3600, "d": 86400}[m.group(2)])


def _actor(args: argparse.Namespace) -> str:
    """--by, or the OS user as cli:<user> (the form `yuqing dashboard users unlock` records)."""
    return args.by or cli_actor()


BY_HELP = "who does it, for the audit trail (default: cli:<OS user>)"


def register(sub: Any) -> None:
    p = sub.add_parser("alerts", help="crisis alerts: rules, lifecycle, subscribers, email")
    a = p.add_subparsers(dest="alerts_command", required=True)

    c = a.add_parser("run-once", help="evaluate the rules now, queue and send emails, print what fires")
    c.add_argument("--at", type=_time, help="evaluate as of this time (default: now)")
    c.add_argument("--no-send", action="store_true", help="queue emails but do not send them")
    c.set_defaults(func=run_once_command)

    c = a.add_parser("backtest", help="what would have fired on stored data, and when (writes nothing)")
    c.add_argument("--from", dest="start", type=_time, required=True)
    c.add_argument("--to", dest="end", type=_time, required=True)
    c.add_argument("--step", type=_duration, default=timedelta(minutes=5), help="evaluation step (default 5m)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=backtest_command)

    c = a.add_parser("test-email", help="send a test message to ADDRESS through the configured SMTP server")
    c.add_argument("address")
    c.set_defaults(func=test_email_command)

    c = a.add_parser("rules", help="validate the rules file and list the rules")
    c.set_defaults(func=rules_command)

    c = a.add_parser("list", help="alerts, newest opened first")
    c.add_argument("--status", action="append", choices=("open", "acknowledged", "resolved"))
    c.add_argument("--limit", type=int, default=50)
    c.set_defaults(func=list_command)

    for name, helptext in (("ack", "acknowledge an alert"), ("resolve", "resolve an alert with a note")):
        c = a.add_parser(name, help=helptext + " (exit 2: no such alert; 1: it cannot, e.g. already resolved)")
        c.add_argument("alert_id", type=int)
        c.add_argument("--by", help=BY_HELP)
        c.add_argument("--note", default="", required=name == "resolve")
        c.set_defaults(func=lifecycle_command, action=name)

    c = a.add_parser("silence", help="mute a rule (or one key of it) until a time")
    c.add_argument("rule", help="rule name, or * for every rule")
    c.add_argument("--key", default="", help="only this key (default: the whole rule)")
    c.add_argument("--for", dest="duration", type=_duration, required=True, help="e.g. 2h")
    c.add_argument("--by", help=BY_HELP)
    c.add_argument("--reason", default="")
    c.set_defaults(func=silence_command)

    c = a.add_parser("subscribe", help="add or update an email subscriber, or a chat channel's subscription")
    c.add_argument("email", nargs="?", default="", help="the address (not with --channel)")
    c.add_argument("--channel", default="email", help="a configured chat channel ([channels.NAME]) instead of an "
                                                      "email address (default: email)")
    c.add_argument("--name")
    c.add_argument("--min-severity", choices=SEVERITY_CHOICES)
    for name in ("operators", "touchpoints", "regions", "platforms", "rules"):
        c.add_argument(f"--{name}", type=_csv, help="comma-separated; empty = all")
    c.add_argument("--mode", choices=("immediate", "hourly", "daily"))
    c.add_argument("--daily-at", help="HH:MM Asia/Shanghai for --mode daily (default 08:00)")
    c.add_argument("--mentions", type=_csv, help="chat channels: who the robot @s, comma-separated mobile numbers "
                   "(Feishu: open_ids ou_… or emails) or all; empty = nobody")
    c.add_argument("--mention-min-severity", choices=SEVERITY_CHOICES,
                   help="the lowest severity that @s them (default orange: red and orange alerts)")
    c.set_defaults(func=subscribe_command)

    c = a.add_parser("subscribers", help="list subscribers")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=subscribers_command)

    c = a.add_parser("unsubscribe", help="deactivate a subscriber by email, chat channel name or unsubscribe token "
                                         "(exit 2: no such subscriber)")
    c.add_argument("email_or_token")
    c.set_defaults(func=unsubscribe_command)

    c = a.add_parser("outbox", help="queued and sent messages (email and chat)")
    c.add_argument("--limit", type=int, default=30)
    c.set_defaults(func=outbox_command)

    from alerts import chat_commands

    chat_commands.register(a)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    """The settings and both stores (yuqing.wiring), for commands that read posts."""
    from yuqing.wiring import open_stores

    settings = settings_from(args)
    return settings, open_stores(settings)


def _ops(args: argparse.Namespace) -> tuple[Any, Any]:
    """The settings and the OpsDB alone, for commands about alerts, subscribers and the outbox."""
    from yuqing.wiring import open_ops

    settings = settings_from(args)
    return settings, open_ops(settings)


def _rules_or_exit(settings: Any) -> Any:
    from alerts.engine import configured_rules
    from alerts.rules import RuleError

    try:
        return configured_rules(settings)
    except RuleError as exc:
        print(f"规则错误 rules error: {exc}", file=sys.stderr)
        return None


def run_once_command(args: argparse.Namespace) -> int:
    from alerts.chat import deliver_chat
    from alerts.email import schedule_digests
    from alerts.engine import evaluate, notify_fired
    from alerts.outbox import deliver_due
    from yuqing.records import now_utc
    from yuqing.timefmt import local_str
    from yuqing.vocab import SEVERITY_ZH

    settings, store = _open(args)
    index, ops = store
    try:
        rules = _rules_or_exit(settings)
        if rules is None:
            return 2
        now = args.at or now_utc()
        report = evaluate(index, ops, settings, now, rules=rules)
        queued = notify_fired(index, ops, settings, report, now) + schedule_digests(index, ops, settings, now)
        sent = 0 if args.no_send else deliver_due(ops, settings, now)
        chat = 0 if args.no_send else deliver_chat(ops, settings)
        print(f"评估时间 {local_str(now, '%Y-%m-%d %H:%M:%S')}：{len(rules)} 条规则，"
              f"触发 {len(report.fired)} 条，持续 {sum(d.action == 'update' for d in report.decisions)} 条，"
              f"抑制 {sum(d.action == 'suppressed' for d in report.decisions)} 条；消息入队 {queued} 条，"
              f"邮件发出 {sent} 封，群消息送达 {chat} 条")
        for d in report.decisions:
            a = d.alert
            mute = "（已静默）" if d.silenced else ""
            print(f"  [{action_zh(d.action)}] #{a.alert_id} 【{SEVERITY_ZH[a.severity]}】{a.title}（规则：{a.rule}）{mute}\n"
                  f"      {a.reason}")
        for name, err in report.errors.items():
            print(f"  规则 {name} 出错：{err}", file=sys.stderr)
        return 1 if report.errors else 0
    finally:
        store.close()


def backtest_command(args: argparse.Namespace) -> int:
    from alerts.engine import backtest
    from yuqing.records import now_utc
    from yuqing.timefmt import local_str
    from yuqing.vocab import SEVERITY_ZH

    now = now_utc()
    if args.end > now:  # no data from the future: flatline would report every source as silent there
        print(f"--to 晚于当前时间，回测截至当前时间 {local_str(now, '%Y-%m-%d %H:%M:%S')}",
              file=sys.stderr if args.json else sys.stdout)
        args.end = now
    if args.end <= args.start:
        print("--to must be after --from (回测结束时间须晚于开始时间，且不晚于当前时间)", file=sys.stderr)
        return 2
    settings, store = _open(args)
    try:
        rules = _rules_or_exit(settings)
        if rules is None:
            return 2
        hits = backtest(store.index, store.ops, settings, args.start, args.end, args.step, rules=rules)
    finally:
        store.close()
    for h in hits:
        a = h.alert
        if args.json:
            print(json.dumps({"at": h.at.isoformat(), "action": h.action, "rule": a.rule, "key": a.key,
                              "severity": a.severity, "title": a.title, "reason": a.reason, "count": a.count,
                              "baseline": a.baseline}, ensure_ascii=False))
        else:
            print(f"{local_str(h.at, '%Y-%m-%d %H:%M:%S')} [{action_zh(h.action)}] 【{SEVERITY_ZH[a.severity]}】{a.title}"
                  f"（规则：{a.rule}）\n"
                  f"      {a.reason}")
    if not args.json:
        print(f"回测 {local_str(args.start)} 至 {local_str(args.end)}，步长 {args.step}：共 {len(hits)} 次触发"
              "（数据源断流与热榜按当时的记录重放）")
    return 0


def test_email_command(args: argparse.Namespace) -> int:
    from alerts.outbox import deliver_due
    from alerts.render import render_alert
    from yuqing.ops.subscribers import check_email
    from yuqing.records import Alert, OutboxMessage, Subscriber, now_utc

    try:
        args.address = check_email(args.address)
    except ValueError as exc:
        print(f"测试邮件未发送：{exc}", file=sys.stderr)
        return 2
    settings, store = _ops(args)
    try:
        now = now_utc()
        sample = Alert(rule="测试", key="test", severity="yellow", title="这是一封测试预警邮件",
                       reason=f"由 yuqing alerts test-email 于 {now.isoformat()} 发出，用于检查 SMTP 设置。",
                       opened_at=now, updated_at=now, alert_id=0)
        r = render_alert(sample, "test", [], Subscriber(email=args.address, token="test"), settings)
        mid = store.enqueue(OutboxMessage(to=(args.address,), subject=r.subject, text=r.text, html=r.html,
                                                dedup_key=f"test:{args.address}:{now.isoformat()}", created_at=now))
        sent = deliver_due(store, settings, now)
        msg = next((m for m in store.list_outbox(limit=20) if m.message_id == mid), None)
    finally:
        store.close()
    smtp = settings.smtp
    if msg is not None and msg.sent_at:
        print(f"已发送到 {args.address}（SMTP {smtp.host}:{smtp.port}，本次共发出 {sent} 封）")
        return 0
    print(f"发送失败（SMTP {smtp.host}:{smtp.port}）：{msg.last_error if msg else '未入队'}；邮件留在发件箱中稍后重试",
          file=sys.stderr)
    return 1


def rules_command(args: argparse.Namespace) -> int:
    from alerts.loader import rules_path
    from alerts.rules import describe_types

    settings = settings_from(args)
    rules = _rules_or_exit(settings)
    if rules is None:
        return 2
    print(f"规则文件 {rules_path(settings.alerts.rules)}：{len(rules)} 条启用")
    for r in rules:
        params = ", ".join(f"{k}={v}" for k, v in r.p.items())
        print(f"  {r.name} [{r.type_name}] {r.severity} 范围={r.scope.label} 窗口={r.window_minutes}分钟 {params}")
    print("rule types: " + "; ".join(f"{name}: {doc.splitlines()[0]}" for name, doc in describe_types().items()))
    return 0


def list_command(args: argparse.Namespace) -> int:
    from yuqing.timefmt import local_str
    from yuqing.vocab import ALERT_STATUS_ZH, SEVERITY_ZH

    _, store = _ops(args)
    try:  # the OpsDB orders by last change; the newest opened are not always among the last changed
        alerts = store.list_alerts(statuses=tuple(args.status or ()), limit=ALL_ALERTS)
    finally:
        store.close()
    alerts = sorted(alerts, key=lambda a: (a.opened_at, a.alert_id or 0), reverse=True)[:max(args.limit, 0)]
    for a in alerts:
        print(f"#{a.alert_id} {local_str(a.opened_at)} 【{SEVERITY_ZH[a.severity]}】{ALERT_STATUS_ZH[a.status]} "
              f"{a.title}（规则：{a.rule}）")
    if not alerts:
        print("没有预警")
    return 0


def lifecycle_command(args: argparse.Namespace) -> int:
    from yuqing.ops import lifecycle
    from yuqing.vocab import ALERT_STATUS_ZH

    _, store = _ops(args)
    try:
        if args.action == "ack":
            a = lifecycle.acknowledge(store, args.alert_id, _actor(args), note=args.note)
        else:
            a = lifecycle.resolve(store, args.alert_id, _actor(args), args.note)
    except lifecycle.NoSuchAlert as exc:  # a name that names nothing: a usage error, like `report --alert 99`
        print(str(exc), file=sys.stderr)
        return 2
    except lifecycle.LifecycleError as exc:  # it exists but cannot make that move (already resolved)
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"预警 #{a.alert_id} 现为{ALERT_STATUS_ZH.get(a.status, a.status)}")
    return 0


def silence_command(args: argparse.Namespace) -> int:
    from alerts.loader import load_rule_names, rules_path
    from alerts.rules import RuleError
    from yuqing.ops import lifecycle
    from yuqing.records import now_utc
    from yuqing.timefmt import local_str

    settings = settings_from(args)
    if args.rule != "*":
        try:
            names = load_rule_names(rules_path(settings.alerts.rules))
        except RuleError as exc:  # one line (YAML errors span several)
            print("静默失败：规则文件错误：" + " ".join(str(exc).split()), file=sys.stderr)
            return 2
        if args.rule not in names:
            print(f"静默失败：未知规则 {args.rule}（可选：{'、'.join(names)}；或 * 表示所有规则）", file=sys.stderr)
            return 2
    _, store = _ops(args)
    try:
        s = lifecycle.silence(store, args.rule, args.key, now_utc() + args.duration, _actor(args), args.reason)
    except lifecycle.LifecycleError as exc:
        print(f"静默失败：{exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"已静默 {s.rule}{' / ' + s.key if s.key else ''} 至 {local_str(s.until)}")
    return 0


def subscribe_command(args: argparse.Namespace) -> int:
    from alerts.subscriptions import address, describe
    from yuqing.ops.subscribers import subscribe

    if (args.channel == "email") == (not args.email):
        print("订阅失败：请给出邮箱地址，或用 --channel 名称 订阅群机器人渠道（二者选一）", file=sys.stderr)
        return 2
    settings, store = _ops(args)
    try:
        fields = {k: getattr(args, k) for k in ("name", "min_severity", "operators", "touchpoints", "regions",
                                                "platforms", "rules", "mode", "daily_at", "mentions",
                                                "mention_min_severity")}
        try:
            sub = subscribe(store, settings, args.email, actor=cli_actor(), channel=args.channel, **fields)
        except ValueError as exc:
            print(f"订阅失败：{exc}", file=sys.stderr)
            return 2
    finally:
        store.close()
    print(f"已订阅 #{sub.subscriber_id} {address(sub)}：{describe(sub)}")
    return 0


def subscribers_command(args: argparse.Namespace) -> int:
    import dataclasses

    from alerts.subscriptions import address, describe

    _, store = _ops(args)
    try:
        subs = store.list_subscribers()
    finally:
        store.close()
    for s in subs:
        if args.json:
            print(json.dumps({k: v for k, v in dataclasses.asdict(s).items() if k != "token"}, ensure_ascii=False))
        else:
            print(f"#{s.subscriber_id} {'' if s.active else '（已退订）'}{address(s)} {s.name}：{describe(s)}")
    if not subs and not args.json:
        print("还没有订阅者")
    return 0


def unsubscribe_command(args: argparse.Namespace) -> int:
    from yuqing.ops.subscribers import unsubscribe

    _, store = _ops(args)
    try:
        ok = unsubscribe(store, args.email_or_token, actor=cli_actor())
    finally:
        store.close()
    if not ok:  # nobody with that address, channel or token: a usage error (exit 2), like any unknown name
        print(f"没有找到该订阅：{args.email_or_token}", file=sys.stderr)
        return 2
    print("已退订")
    return 0


def outbox_command(args: argparse.Namespace) -> int:
    from yuqing.timefmt import local_str

    _, store = _ops(args)
    try:
        msgs = store.list_outbox(limit=args.limit)
    finally:
        store.close()
    for m in msgs:
        state = f"已发送 {local_str(m.sent_at)}" if m.sent_at else f"待发送（{m.attempts} 次尝试）{m.last_error[:160]}"
        where = ",".join(m.to) if m.channel == "email" else f"[{m.channel}]"
        print(f"#{m.message_id} {where} {m.subject} — {state}")
    if not msgs:
        print("发件箱为空")
    return 0
