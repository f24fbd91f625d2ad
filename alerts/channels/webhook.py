"""A generic signed webhook (an SMS gateway, a ticket system): POST the URL with the JSON body
{"title", "markdown", "link", "channel", "sent_at", "mentions"} ("mentions": the subscription's mobiles and
"all" when the severity calls for them, else []) and the headers X-Yuqing-Timestamp (Unix seconds) and
X-Yuqing-Signature: sha256=hex(HMAC-SHA256(secret, f"{timestamp}.{body}")); a receiver should refuse a
timestamp more than 5 minutes away. 2xx accepted, 429 and 5xx retried, another 4xx permanent."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from alerts.channels.base import Answer, Channel, ChatMessage, by_http, cut_to_fit

SIGNATURE_HEADER = "X-Yuqing-Signature"
TIMESTAMP_HEADER = "X-Yuqing-Timestamp"


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Webhook(Channel):
    type_name = "webhook"
    default_rate_per_minute = 60
    default_max_bytes = 64 * 1024  # of the whole body

    def build(self, msg: ChatMessage, now: datetime) -> tuple[str, dict[str, str], bytes]:
        def body(markdown: str) -> bytes:
            return self.dumps({"title": msg.title, "markdown": markdown, "link": msg.link, "channel": self.name,
                               "sent_at": now.isoformat(), "mentions": list(msg.mentions)})

        data = body(cut_to_fit(msg.markdown, msg.link, lambda md: len(body(md)) <= self.max_bytes))
        ts = int(now.timestamp())
        return self.base_url, {TIMESTAMP_HEADER: str(ts),
                               SIGNATURE_HEADER: webhook_signature(self.settings.secret, ts, data)}, data

    def read(self, status: int, body: bytes) -> Answer:
        kind = by_http(status) or "ok"
        return Answer(kind, status, "", body.decode("utf-8", "replace")[:300] or ("ok" if kind == "ok" else ""))
