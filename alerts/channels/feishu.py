"""Feishu/Lark (飞书) custom bot: POST {base}/open-apis/bot/v2/hook/TOKEN with {"msg_type": "interactive",
"card": {...}} and, with the 签名校验 security setting, "timestamp" (seconds, a string) and
"sign" = base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b"")), the timestamp within an hour. The request
body at most 20 KB; 100 requests a minute and 5 a second per bot. code 0 accepted, 9499 and 11232 rate limited,
19021 signature check failed (or the timestamp out of the window), 19024 keyword check failed.

Mentions: a custom bot cannot @ by mobile number; the card's lark_md takes <at id=all></at> for everyone,
<at id=ou_…></at> for an open_id and <at email=…></at> for an email address, in a div of their own after the
body (so cutting a long body never cuts them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import quote

from alerts.channels.base import Answer, Channel, ChatMessage, cut_to_fit, read_coded

TEMPLATES = {"红色": "red", "橙色": "orange", "黄色": "yellow", "蓝色": "blue"}  # header colour by severity in the title


def feishu_sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def at(mention: str) -> str:
    """The card's lark_md mention of "all", an open_id or an email address."""
    if mention == "all":
        return "<at id=all></at>"
    return f"<at email={mention}></at>" if "@" in mention else f"<at id={mention}></at>"


class Feishu(Channel):
    type_name = "feishu"
    default_base_url = "https://open.feishu.cn"
    default_rate_per_minute = 100
    default_max_bytes = 20 * 1024  # of the whole request body
    per_second = 5.0

    def card(self, msg: ChatMessage, markdown: str) -> dict[str, Any]:
        template = next((t for zh, t in TEMPLATES.items() if zh in msg.title), "blue")
        elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "lark_md", "content": markdown}}]
        if msg.mentions:
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": " ".join(at(m) for m in msg.mentions)}})
        if msg.link:
            elements.append({"tag": "action", "actions": [{"tag": "button", "type": "primary", "url": msg.link,
                                                           "text": {"tag": "plain_text", "content": "查看详情"}}]})
        return {"config": {"wide_screen_mode": True},
                "header": {"template": template, "title": {"tag": "plain_text", "content": msg.title}},
                "elements": elements}

    def build(self, msg: ChatMessage, now: datetime) -> tuple[str, dict[str, str], bytes]:
        url = f"{self.base_url}/open-apis/bot/v2/hook/{quote(self.settings.key, safe='')}"
        head: dict[str, Any] = {}
        if self.settings.secret:
            ts = int(now.timestamp())
            head = {"timestamp": str(ts), "sign": feishu_sign(self.settings.secret, ts)}

        def body(markdown: str) -> bytes:
            return self.dumps({**head, "msg_type": "interactive", "card": self.card(msg, markdown)})

        return url, {}, body(cut_to_fit(msg.markdown, msg.link, lambda md: len(body(md)) <= self.max_bytes))

    def read(self, status: int, body: bytes) -> Answer:
        return read_coded(status, body, "code", "msg", rate_codes={9499, 11232}, retry_codes=set())
