"""Chinese names for the codes the store keeps in English: audit actions, alert scope fields, rule types, errors.

Pure; an unknown code is shown as it is, so a new code is never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuqing.vocab import PLATFORM_ZH, RISK_ZH, RULE_TYPE_ZH

# Churn (sentiment.topics' risk flag) on a positive post is most likely someone arriving, not leaving.
ARRIVING_ZH = "携号转网（正面，多为转入）"

# Every action written with add_audit: yuqing.lifecycle, alerts.engine (alert_<decision>), alerts.eventmerge (merge),
# dashboard.throttle, dashboard.data (case actions, label corrections, subscribers).
ACTION_ZH = {
    "alert_new": "新预警", "alert_raise": "预警升级", "alert_reopen": "预警重新打开",
    "ack": "确认", "resolve": "解决", "silence": "静默", "merge": "合并预警",
    "claim": "认领", "assign": "分派", "reply": "回复", "ignore": "忽略", "reopen": "重新打开",
    "login_lock": "登录锁定", "login_unlock": "解锁",
    "user_disable": "停用账号", "user_enable": "启用账号", "user_remove": "删除账号",
    "correct_label": "修正情感", "subscriber_save": "保存订阅", "subscriber_delete": "删除订阅",
    "subscriber_unsubscribe": "退订",
}

SCOPE_ZH = {"operators": "运营商", "operator": "运营商", "platforms": "平台", "platform": "平台",
            "regions": "地区", "region": "地区", "touchpoints": "触点", "touchpoint": "触点"}



def platform_zh(code: str) -> str:
    return PLATFORM_ZH.get(code, code)


def platforms_text(codes: tuple[str, ...] | list[str], empty: str = "全部") -> str:
    """"微博、知乎" for platform codes; `empty` when there are none."""
    return "、".join(platform_zh(c) for c in codes) or empty


def post_key_text(key: str) -> str:
    """"微博 12345" for a "weibo:12345" post key."""
    platform, _, post_id = key.partition(":")
    return f"{platform_zh(platform)} {post_id}" if post_id else key


def risk_zh(flag: str, label: str = "") -> str:
    return ARRIVING_ZH if flag == "churn" and label == "positive" else RISK_ZH.get(flag, flag)


def risks_text(flags: tuple[str, ...], label: str = "") -> str:
    """"升级投诉风险、离网风险" for a post's risk flags, given its effective label."""
    return "、".join(risk_zh(f, label) for f in flags)


def action_zh(code: str) -> str:
    return ACTION_ZH.get(code, code)


def _values(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else (str(value),)


def scope_text(scope: Mapping[str, object]) -> str:
    """"运营商=中国电信；平台=微博" for an alert's scope; "全部" when it has none."""
    parts = []
    for name, value in scope.items():
        values = _values(value)
        if name in ("platforms", "platform"):
            values = tuple(PLATFORM_ZH.get(v, v) for v in values)
        parts.append(f"{SCOPE_ZH.get(name, name)}={'、'.join(values) or '全部'}")
    return "；".join(parts) or "全部"


def rule_text(rule: str, rule_type: str) -> str:
    """The rule's configured name with its type in Chinese, the type left out when it says the same."""
    kind = RULE_TYPE_ZH.get(rule_type, rule_type)
    return rule if not kind or kind == rule else f"{rule}（{kind}）"


def subscriber_error(message: str) -> str:
    """The Chinese message for a ValueError raised by yuqing.records.Subscriber."""
    if message.startswith("not an email address: "):
        return f"邮箱地址无效：{message.removeprefix('not an email address: ').strip(chr(39))}（须包含 @）"
    if message.startswith("unknown severity "):
        return f"未知的预警级别：{message.removeprefix('unknown severity ')}"
    if message.startswith("unknown mode "):
        return f"未知的发送方式：{message.removeprefix('unknown mode ')}"
    return f"订阅无效：{message}"
