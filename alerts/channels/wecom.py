"""WeCom (企业微信) group robot: POST {base}/cgi-bin/webhook/send?key=KEY with
{"msgtype": "markdown", "markdown": {"content": ...}}; the content at most 4096 bytes of UTF-8; 20 messages a
minute per robot. errcode 0 accepted, 45009 over the rate limit, 93000 an invalid webhook key, -1 system busy.

Mentions: a robot's markdown message can @ only by WeCom userid (`<@userid>` in the content; markdown_v2 not at
all), never by mobile number, so a message that mentions people is sent as {"msgtype": "text", "text":
{"content", "mentioned_mobile_list": [...]}} ("@all" for everyone), the content plain text of at most 2048 bytes.
Messages that mention nobody stay markdown."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from alerts.channels.base import Answer, Channel, ChatMessage, cut_to_fit, plain_text, read_coded

TEXT_MAX_BYTES = 2048  # of a text message's content


class WeCom(Channel):
    type_name = "wecom"
    default_base_url = "https://qyapi.weixin.qq.com"
    default_rate_per_minute = 20
    default_max_bytes = 4096  # of the markdown content

    def content(self, msg: ChatMessage) -> str:
        head = f"## {msg.title}\n"
        return head + cut_to_fit(msg.markdown, msg.link,
                                 lambda md: len((head + md).encode("utf-8")) <= self.max_bytes)

    def text(self, msg: ChatMessage) -> str:
        """The plain-text content of a message that mentions people: the title, then the body cut to fit."""
        head = f"{msg.title}\n"
        limit = min(self.max_bytes, TEXT_MAX_BYTES)
        body = cut_to_fit(msg.markdown, msg.link, lambda md: len((head + plain_text(md)).encode("utf-8")) <= limit)
        return head + plain_text(body)

    def build(self, msg: ChatMessage, now: datetime) -> tuple[str, dict[str, str], bytes]:
        url = f"{self.base_url}/cgi-bin/webhook/send?key={quote(self.settings.key, safe='')}"
        if msg.mentions:
            mobiles = ["@all" if m == "all" else m for m in msg.mentions]
            return url, {}, self.dumps({"msgtype": "text", "text": {"content": self.text(msg),
                                                                    "mentioned_mobile_list": mobiles}})
        return url, {}, self.dumps({"msgtype": "markdown", "markdown": {"content": self.content(msg)}})

    def read(self, status: int, body: bytes) -> Answer:
        return read_coded(status, body, "errcode", "errmsg", rate_codes={45009}, retry_codes={-1})
