"""The one write path for subscribers, used by `yuqing alerts subscribe|unsubscribe` and the dashboard's 订阅 page:
every value checked against the configured names (yuqing.catalog), one subscriber per email address and one per
chat channel (a group robot, [channels.NAME]), every change audited."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from yuqing import catalog
from yuqing.catalog import CatalogError
from yuqing.ops.protocol import OpsDB
from yuqing.records import AuditEntry, Subscriber, now_utc
from yuqing.vocab import PLATFORM_ZH, SEVERITY_ZH

EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
MOBILE = re.compile(r"1\d{10}")  # a mainland mobile number: 11 digits starting with 1
FEISHU_ID = re.compile(r"ou_[0-9A-Za-z]+")  # a Feishu open_id
EVERYONE = ("all", "@all", "所有人", "全体")  # ways to write "mention everyone"; stored as "all"
DAILY_AT = re.compile(r"(\d{1,2}):(\d{2})")


def check_email(address: str) -> str:
    """The address stripped; ValueError (one Chinese line) when it is not name@domain."""
    address = address.strip()
    if not EMAIL.fullmatch(address):
        raise ValueError(f"不是有效的邮箱地址：{address or '（空）'}")
    return address


def daily_time(value: str) -> str:
    """A 日报 time "HH:MM" from 00:00 to 23:59 (Asia/Shanghai), hours zero-padded; ValueError otherwise."""
    m = DAILY_AT.fullmatch(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"日报时间 {value or '（空）'} 无效（应为 HH:MM，00:00 至 23:59）")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _known(values: tuple[str, ...], what: str, known: Callable[[], tuple[str, ...]],
           shown: Callable[[str], str] = str, also: str = "") -> str:
    """"" when every value is known, else the problem naming the unknown ones and listing the valid ones."""
    if not values:
        return ""
    try:
        names = known()
    except CatalogError as exc:
        return str(exc)
    bad = [v for v in values if v not in names]
    return f"未知{what} {'、'.join(bad)}（可选：{'、'.join(shown(n) for n in names)}{also}）" if bad else ""


def check_channel(channel: str, settings: object) -> str:
    """"email" or the name of a configured chat channel; ValueError (one Chinese line) listing them otherwise."""
    channel = (channel or "email").strip()
    names = [c.name for c in getattr(settings, "channels", ())]
    if channel != "email" and channel not in names:
        raise ValueError(f"未知渠道 {channel}（可选：{'、'.join(['email', *names])}；群机器人渠道在配置文件的 "
                         "[channels.名称] 中定义）")
    return channel


def check_mentions(mentions: tuple[str, ...], channel: str, settings: object) -> tuple[str, ...]:
    """Who the chat robot @s, normalised: "all" for everyone, else mobile numbers (11 digits starting with 1;
    spaces, hyphens and +86 dropped) or, on Feishu (whose robots cannot @ by mobile), open_ids (ou_…) or email
    addresses. ValueError (one Chinese line) naming every entry that is none of these, or any for email."""
    values = tuple(dict.fromkeys(m.strip() for m in mentions if m.strip()))
    if not values:
        return ()
    if channel == "email":
        raise ValueError("@提醒只用于群机器人渠道，邮件订阅不能设置")
    kind = next((c.type for c in getattr(settings, "channels", ()) if c.name == channel), "")
    out, bad = [], []
    for v in values:
        mobile = re.sub(r"[\s-]", "", v).removeprefix("+86")
        if v.lower() in EVERYONE:
            out.append("all")
        elif kind == "feishu" and (FEISHU_ID.fullmatch(v) or EMAIL.fullmatch(v)):
            out.append(v)
        elif kind != "feishu" and MOBILE.fullmatch(mobile):
            out.append(mobile)
        else:
            bad.append(v)
    if bad:
        want = ("飞书机器人只能按 open_id（ou_ 开头）或邮箱 @ 人，不能按手机号" if kind == "feishu"
                else "手机号应为 1 开头的 11 位数字")
        raise ValueError(f"@提醒对象无效：{'、'.join(bad)}（{want}；all 表示 @所有人）")
    return tuple(dict.fromkeys(out))


def mentions_text(sub: Subscriber) -> str:
    """"@13800000000、所有人（橙色及以上）", or "" when the subscription mentions nobody."""
    if not sub.mentions:
        return ""
    who = "、".join("所有人" if m == "all" else m for m in sub.mentions)
    return f"@{who}（{SEVERITY_ZH[sub.mention_min_severity]}及以上）"


def check_subscriber(sub: Subscriber, settings: object) -> Subscriber:
    """The subscriber with its 日报 time and platform names normalised; ValueError (one Chinese line) naming every
    unknown platform, operator, touchpoint or rule with the valid values, or a 日报 time that is not HH:MM."""
    problems: list[str] = []
    changes: dict[str, object] = {}
    try:
        changes["daily_at"] = daily_time(sub.daily_at)
    except ValueError as exc:
        problems.append(str(exc))
    by_zh = {zh: code for code, zh in PLATFORM_ZH.items()}
    platforms = tuple(dict.fromkeys(by_zh.get(p, p.lower()) for p in sub.platforms))
    changes["platforms"] = platforms
    problems.append(_known(platforms, "平台", lambda: catalog.platforms(settings),
                           lambda n: f"{n}（{PLATFORM_ZH[n]}）" if n in PLATFORM_ZH else n))
    if sub.operators:
        problems.append(_known(sub.operators, "运营商", lambda: catalog.operators(settings)))
    if sub.touchpoints:
        problems.append(_known(sub.touchpoints, "触点", lambda: catalog.touchpoints(settings)))
    if sub.rules:
        types = catalog.rule_types()
        problems.append(_known(tuple(r for r in sub.rules if r not in types), "规则",
                               lambda: catalog.rule_names(settings), also=f"；或规则类型：{'、'.join(types)}"))
    try:
        changes["mentions"] = check_mentions(sub.mentions, sub.channel, settings)
    except ValueError as exc:
        problems.append(str(exc))
    problems = list(dict.fromkeys(p for p in problems if p))
    if problems:
        raise ValueError("；".join(problems))
    return dataclasses.replace(sub, **changes)  # type: ignore[arg-type]


def _audit(ops: OpsDB, actor: str, action: str, sub: Subscriber) -> None:
    ops.add_audit(AuditEntry(at=now_utc(), actor=actor, action=action, target=f"subscriber:{sub.subscriber_id}",
                             detail=sub.email if sub.channel == "email" else f"channel:{sub.channel}"))


def _same(a: Subscriber, channel: str, email: str) -> bool:
    """Whether `a` is the subscription of this address (email) or of this chat channel."""
    if a.channel != channel:
        return False
    return channel != "email" or a.email.lower() == email.lower()


def save(ops: OpsDB, settings: object, sub: Subscriber, *, actor: str) -> Subscriber:
    """Check and save a subscriber. A new one (no id) for an address that is already subscribed updates and
    reactivates that one instead: one subscriber per address."""
    channel = check_channel(sub.channel, settings)
    email = check_email(sub.email) if channel == "email" else ""
    sub = check_subscriber(dataclasses.replace(sub, email=email, channel=channel), settings)
    if sub.subscriber_id is None:
        existing = next((s for s in ops.list_subscribers() if _same(s, channel, email)), None)
        if existing is not None:
            sub = dataclasses.replace(sub, subscriber_id=existing.subscriber_id, token=existing.token)
    saved = ops.save_subscriber(sub)
    _audit(ops, actor, "subscriber_save", saved)
    return saved


def subscribe(ops: OpsDB, settings: object, email: str, *, actor: str, channel: str = "email",
              **fields: object) -> Subscriber:
    """Add a subscriber, or update (and reactivate) the one with this address or chat channel: the fields given
    change, the others keep their values. For a chat channel `email` is ignored ("")."""
    channel = check_channel(channel, settings)
    email = check_email(email) if channel == "email" else ""
    fields = {k: v for k, v in fields.items() if v is not None}
    existing = next((s for s in ops.list_subscribers() if _same(s, channel, email)), None)
    if existing is not None:
        sub = dataclasses.replace(existing, active=True, **fields)  # type: ignore[arg-type]
    else:
        sub = Subscriber(email=email, channel=channel, **fields)  # type: ignore[arg-type]
    return save(ops, settings, sub, actor=actor)


def unsubscribe(ops: OpsDB, email_or_token: str, *, actor: str = "unsubscribe-link") -> bool:
    """Deactivate by unsubscribe token (the email's link), by address, or by chat channel name; False when
    nobody matched."""
    if "@" not in email_or_token:
        subs = [s for s in ops.list_subscribers() if s.token == email_or_token]
        if subs and ops.unsubscribe(email_or_token):
            for sub in subs:
                _audit(ops, actor, "subscriber_unsubscribe", sub)
            return True
        subs = [s for s in ops.list_subscribers(active_only=True) if _same(s, email_or_token, "")]
    else:
        subs = [s for s in ops.list_subscribers(active_only=True) if _same(s, "email", email_or_token)]
    for sub in subs:
        ops.save_subscriber(dataclasses.replace(sub, active=False))
    for sub in subs:
        _audit(ops, actor, "subscriber_unsubscribe", sub)
    return bool(subs)


def delete(ops: OpsDB, subscriber_id: int, *, actor: str) -> None:
    sub = ops.get_subscriber(subscriber_id)
    ops.delete_subscriber(subscriber_id)
    if sub is not None:
        _audit(ops, actor, "subscriber_delete", sub)


def set_active(ops: OpsDB, subscriber_id: int, active: bool, *, actor: str) -> Subscriber:
    """Pause or resume a subscriber (the dashboard's 停用/启用)."""
    sub = ops.get_subscriber(subscriber_id)
    if sub is None:
        raise ValueError(f"订阅 {subscriber_id} 不存在")
    saved = ops.save_subscriber(dataclasses.replace(sub, active=active))
    _audit(ops, actor, "subscriber_save", saved)
    return saved
