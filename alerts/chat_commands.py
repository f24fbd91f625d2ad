"""`yuqing alerts test-channel NAME` (send a test message through a chat channel, print the platform's answer)
and `yuqing alerts channels` (the configured chat channels, secrets masked)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from yuqing.commands import settings_from


def register(a: Any) -> None:
    c = a.add_parser("test-channel", help="send a test message through a chat channel ([channels.NAME]) and print "
                                          "the platform's answer")
    c.add_argument("name")
    c.add_argument("--severity", default="yellow", choices=("blue", "yellow", "orange", "red"),
                   help="the test message's level (default yellow); it @s whom the channel's subscription @s at that "
                        "level, so --severity red checks the mentions")
    c.set_defaults(func=test_channel_command)

    c = a.add_parser("channels", help="the configured chat channels (type, address, limits; secrets masked)")
    c.set_defaults(func=channels_command)


def _unknown(settings: Any, name: str) -> str:
    names = "、".join(c.name for c in settings.channels) or "（无：在配置文件中添加 [channels.名称]）"
    return f"未知渠道 {name}（已配置：{names}）"


def test_channel_command(args: argparse.Namespace) -> int:
    """Queue a test message in the outbox and run one delivery round of the channel (paced like any other):
    exit 0 when the platform accepted it, 1 when it did not (the answer printed), 2 for an unknown channel."""
    from alerts.channels import open_channel
    from alerts.chat import deliver_channel
    from alerts.render import alert_url
    from alerts.subscriptions import mentions_for
    from yuqing.records import Alert, OutboxMessage, now_utc
    from yuqing.timefmt import local_str
    from yuqing.vocab import CHANNEL_TYPE_ZH, SEVERITY_ZH
    from yuqing.wiring import open_ops

    settings = settings_from(args)
    channel = settings.channel(args.name)
    if channel is None:
        print(f"测试消息未发送：{_unknown(settings, args.name)}", file=sys.stderr)
        return 2
    ch = open_channel(channel)
    now = now_utc()
    severity = args.severity
    link = alert_url(settings, Alert(rule="测试", key="test", severity=severity, title="", reason="", opened_at=now,
                                     alert_id=0)).split("?")[0]  # the 预警 page: a test has no alert of its own
    ops = open_ops(settings)
    try:
        mentions = tuple(dict.fromkeys(m for sub in ops.list_subscribers(active_only=True)
                                       if sub.channel == channel.name for m in mentions_for(sub, severity)))
        mid = ops.enqueue(OutboxMessage(
            to=(channel.name,), channel=channel.name, subject=f"【{SEVERITY_ZH[severity]}预警·测试】这是一条测试消息",
            link=link, mentions=mentions,
            text=f"由 `yuqing alerts test-channel {channel.name}` 于 {local_str(now, '%Y-%m-%d %H:%M:%S')} 发出，"
                 f"用于检查{CHANNEL_TYPE_ZH[channel.type]}渠道的设置（地址、密钥、签名"
                 f"{'、@提醒' if mentions else ''}）。\n\n[打开看板]({link})",
            dedup_key=f"test-channel:{channel.name}:{now.isoformat()}", created_at=now, next_attempt_at=now))
        attempts = deliver_channel(ops, channel)
    finally:
        ops.close()
    mine = next((a for a in attempts if a.message.message_id == mid), None)
    where = f"{CHANNEL_TYPE_ZH[channel.type]} {channel.name}（{ch.base_url}）"
    if mine is None:
        print(f"测试消息已入队，本轮未发送（渠道限流 {ch.rate_per_minute} 条/分钟，或排在未送达的消息之后）；"
              f"`yuqing alerts outbox` 查看 — {where}", file=sys.stderr)
        return 1
    print(f"平台应答 platform answer: {mine.answer.describe()}")
    if mine.answer.ok:
        print(f"已送达 {where}" + (f"，@{'、'.join('所有人' if m == 'all' else m for m in mentions)}" if mentions else ""))
        return 0
    kind = "不可重试，已放弃" if mine.answer.kind == "permanent" else "将按退避策略重试"
    print(f"发送失败（{kind}）：{where}", file=sys.stderr)
    return 1


def channels_command(args: argparse.Namespace) -> int:
    from alerts.channels import open_channel
    from yuqing.vocab import CHANNEL_TYPE_ZH

    settings = settings_from(args)
    for c in settings.channels:
        ch = open_channel(c)
        secrets = "，".join(f"{what} ${var}{'（已设置）' if value else '（未设置）'}"
                           for what, var, value in (("密钥", c.key_env, c.key), ("签名密钥", c.secret_env, c.secret))
                           if var)
        print(f"{c.name}：{CHANNEL_TYPE_ZH[c.type]} {ch.base_url}，限流 {ch.rate_per_minute} 条/分钟，"
              f"长度上限 {ch.max_bytes} 字节，{c.give_up_minutes} 分钟未送达则放弃；{secrets or '无密钥'}")
    if not settings.channels:
        print("没有配置群机器人渠道（在配置文件中添加 [channels.名称]，见 docs/channels.md）")
    return 0
