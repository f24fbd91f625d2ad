"""Chat channels for the tests: a receiver on 127.0.0.1 (demo.chatbot) and settings with one channel per
platform pointing at it."""

from __future__ import annotations

from yuqing.config import ChannelSettings, Settings

KEYS = {"wecom": ("wecom-key-一", ""), "dingtalk": ("ding-token", "SECding-secret"), "feishu": ("feishu-token", "fs-secret"),
        "webhook": ("ticket", "wh-secret")}
PLATFORMS = tuple(KEYS)


def robots() -> list:
    from demo.chatbot import Robot

    return [Robot(p, key, secret) for p, (key, secret) in KEYS.items()]


def channel(platform: str, url: str, *, name: str = "", key: str | None = None, secret: str | None = None,
            **kw: object) -> ChannelSettings:
    """A channel named after its platform (or `name`) whose key and secret are the receiver's unless given."""
    good_key, good_secret = KEYS[platform]
    key = good_key if key is None else key
    secret = good_secret if secret is None else secret
    base = f"{url}/webhook/{good_key}" if platform == "webhook" else url
    return ChannelSettings(name=name or platform, type=platform, base_url=base,
                           key_env="" if platform == "webhook" else f"T_{platform.upper()}_KEY", key="" if platform == "webhook" else key,
                           secret_env=f"T_{platform.upper()}_SECRET" if secret else "", secret=secret, **kw)  # type: ignore[arg-type]


def with_channels(settings: Settings, *channels: ChannelSettings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, channels=tuple(channels))
