"""Chat channels: WeCom, DingTalk and Feishu group robots and a signed webhook, looked up by the type named in
`[channels.NAME] type = ...` (a registry, like rule types). Each takes a rendered ChatMessage (title, Markdown
body, link), builds the platform's documented request (format, signature, size limit) and reads its answer into
an Answer: accepted, worth retrying (network, 5xx, rate limit) or permanent (a wrong key, a failed signature).
Delivery from the outbox, pacing and retries are alerts.chat; email stays alerts.outbox over SMTP."""

from __future__ import annotations

from alerts.channels.base import Answer, Channel, ChatMessage, cut_to_fit, mask
from alerts.channels.dingtalk import DingTalk
from alerts.channels.feishu import Feishu
from alerts.channels.webhook import Webhook
from alerts.channels.wecom import WeCom
from yuqing.config import ChannelSettings, Settings

CHANNEL_CLASSES: dict[str, type[Channel]] = {c.type_name: c for c in (WeCom, DingTalk, Feishu, Webhook)}


def open_channel(settings: ChannelSettings) -> Channel:
    """The channel object for one [channels.NAME] table."""
    return CHANNEL_CLASSES[settings.type](settings)


def check_settings(settings: Settings) -> list[str]:
    """`yuqing config check`: every channel's key and secret variables are set (their values never shown)."""
    problems = []
    for c in settings.channels:
        problem = open_channel(c).problem()
        if problem:
            problems.append(f"[channels.{c.name}] {problem}")
    return problems


__all__ = ["CHANNEL_CLASSES", "Answer", "Channel", "ChatMessage", "check_settings", "cut_to_fit", "mask",
           "open_channel"]
