"""DingTalk (钉钉) custom robot: POST {base}/robot/send?access_token=TOKEN, and with the 加签 security setting
&timestamp=<ms>&sign=urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}"))), the timestamp
within an hour of DingTalk's clock. {"msgtype": "markdown", "markdown": {"title", "text"}} or an actionCard with
a 查看详情 button; 20 messages a minute per robot (more and it is throttled for 10 minutes). errcode 0 accepted,
130101 sending too fast, 310000 signature, keyword or IP check failed, 300001 no such token, -1 system busy.

Mentions: "at": {"atMobiles": [...], "isAtAll": bool} beside the markdown, and every mentioned mobile written as
@mobile in the text (DingTalk highlights only those). The actionCard type has no "at", so a message that
mentions people is sent as markdown (its 查看详情 link is in the text) even when msg_type is actionCard."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote, quote_plus

from alerts.channels.base import Answer, Channel, ChatMessage, cut_to_fit, mention_split, read_coded


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value (already URL-encoded) for a timestamp in milliseconds."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


class DingTalk(Channel):
    type_name = "dingtalk"
    default_base_url = "https://oapi.dingtalk.com"
    default_rate_per_minute = 20
    default_max_bytes = 20000  # of the markdown text

    def build(self, msg: ChatMessage, now: datetime) -> tuple[str, dict[str, str], bytes]:
        url = f"{self.base_url}/robot/send?access_token={quote(self.settings.key, safe='')}"
        if self.settings.secret:
            ts = int(now.timestamp() * 1000)
            url += f"&timestamp={ts}&sign={dingtalk_sign(self.settings.secret, ts)}"
        head = f"### {msg.title}\n"
        everyone, mobiles = mention_split(msg.mentions)
        tail = ("\n\n" + " ".join(f"@{m}" for m in (mobiles or ["所有人"]))) if msg.mentions else ""
        text = head + cut_to_fit(msg.markdown, msg.link,
                                 lambda md: len((head + md + tail).encode("utf-8")) <= self.max_bytes) + tail
        if msg.mentions:
            payload = {"msgtype": "markdown", "markdown": {"title": msg.title, "text": text},
                       "at": {"atMobiles": mobiles, "isAtAll": everyone}}
        elif (self.settings.msg_type or "markdown") == "actionCard" and msg.link:
            payload = {"msgtype": "actionCard", "actionCard": {"title": msg.title, "text": text,
                                                               "singleTitle": "查看详情", "singleURL": msg.link}}
        else:
            payload = {"msgtype": "markdown", "markdown": {"title": msg.title, "text": text}}
        return url, {}, self.dumps(payload)

    def read(self, status: int, body: bytes) -> Answer:
        return read_coded(status, body, "errcode", "errmsg", rate_codes={130101}, retry_codes={-1})
