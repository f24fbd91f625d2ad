"""A local group-robot receiver for the demo and the tests: WeCom, DingTalk, Feishu and a signed webhook on
127.0.0.1, checking what each platform checks and answering with its codes.

- WeCom   POST /cgi-bin/webhook/send?key=KEY: the key; msgtype markdown with markdown.content of at most 4096
          bytes, or text with text.content of at most 2048 (40058 when longer); 20 a minute per robot (45009);
          an unknown key 93000.
- DingTalk POST /robot/send?access_token=T[&timestamp=ms&sign=S]: the token (300001); with a secret the sign
          (HmacSHA256 of f"{timestamp}\\n{secret}", base64, URL-encoded) and the timestamp within an hour (310000);
          markdown {title, text} or actionCard {title, text, singleURL}; 20 a minute (130101).
- Feishu  POST /open-apis/bot/v2/hook/TOKEN: the token (19001); with a secret "timestamp" (seconds) within an hour
          and "sign" = base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg="")) (19021); msg_type interactive with a
          card; the body at most 20 KB; 100 a minute and 5 a second (11232).
- webhook POST /webhook/NAME: X-Yuqing-Timestamp within 5 minutes and X-Yuqing-Signature
          sha256=hex(HMAC-SHA256(secret, f"{timestamp}.{body}")) (401); a JSON body with title and markdown (400).

Mentions are read as each platform reads them and kept as the message's "mentions" ("all" for everyone):
WeCom text.mentioned_mobile_list ("@all"); DingTalk at.isAtAll and those at.atMobiles written as @mobile in the
text (DingTalk highlights no other); Feishu the card's lark_md <at id=…></at> / <at email=…></at>; the webhook
its "mentions" list. Every accepted message is kept in `received`, written to <directory>/<time>-<n>-<platform>-<robot>.json and
printed; `fail_next` makes the next answers 502 (a platform having a bad minute)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)
LIMITS = {"wecom": ((20, 60.0),), "dingtalk": ((20, 60.0),), "feishu": ((100, 60.0), (5, 1.0)),
          "webhook": ((60, 60.0),)}  # (requests, per seconds) per robot
HOUR = 3600
FEISHU_AT = re.compile(r"<at (?:id|email)=([^>\s]+)></at>")
Received = tuple[str, str, str, dict[str, Any], list[str]]  # robot, title, text, the answer, the mentions
WEBHOOK_WINDOW = 300


@dataclass(frozen=True)
class Robot:
    """One group robot: its platform, its key (WeCom key, DingTalk access_token, Feishu token, webhook path
    name) and its signing secret ("" = the platform's signature check is off; a webhook always signs)."""

    platform: str
    key: str
    secret: str = ""


class Refused(Exception):
    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(json.dumps(answer, ensure_ascii=False))
        self.status, self.answer = status, answer


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode("ascii")


def _fresh(ts: str, window: int, *, millis: bool = False) -> bool:
    try:
        value = int(ts) / (1000 if millis else 1)
    except (TypeError, ValueError):
        return False
    return abs(time.time() - value) <= window


class ChatReceiver:
    """The receiver on 127.0.0.1 (a free port unless given); `with ChatReceiver(robots, dir) as rx: rx.url`."""

    def __init__(self, robots: list[Robot], directory: str | Path | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, echo: bool = False) -> None:
        self.robots = {(r.platform, r.key): r for r in robots}
        self.directory = Path(directory) if directory else None
        self.host, self.port, self.echo = host, port, echo
        self.received: list[dict[str, Any]] = []
        self.requests = 0  # every request, accepted or not
        self.answers: list[tuple[str, int, Any]] = []  # (platform, HTTP status, platform code) of every request
        self._failing = 0
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def count(self) -> int:
        return len(self.received)

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._failing = n

    # ------------------------------------------------------------------ the platforms
    def _robot(self, platform: str, key: str, code: int, field: str) -> Robot:
        robot = self.robots.get((platform, key))
        if robot is None:
            raise Refused(200, {field: code, "errmsg" if field == "errcode" else "msg": "invalid webhook key or token"})
        return robot

    def _paced(self, platform: str, key: str, code: int, field: str) -> None:
        now = time.monotonic()
        hits = self._hits[(platform, key)]
        longest = max(per for _, per in LIMITS[platform])
        while hits and now - hits[0] > longest:
            hits.popleft()
        for most, per in LIMITS[platform]:
            if sum(1 for t in hits if now - t <= per) >= most:
                if platform == "webhook":
                    raise Refused(429, {"error": "rate limited"})
                raise Refused(200, {field: code, "errmsg" if field == "errcode" else "msg": "send too fast, exceed limit"})
        hits.append(now)

    def wecom(self, query: dict[str, str], body: dict[str, Any], raw: bytes) -> Received:
        robot = self._robot("wecom", query.get("key", ""), 93000, "errcode")
        self._paced("wecom", robot.key, 45009, "errcode")
        kind = body.get("msgtype")
        part = body.get(kind) if kind in ("markdown", "text") else None
        if not isinstance(part, dict) or not isinstance(part.get("content"), str):
            raise Refused(200, {"errcode": 40008, "errmsg": "invalid message type"})
        limit = 4096 if kind == "markdown" else 2048
        if len(part["content"].encode("utf-8")) > limit:
            raise Refused(200, {"errcode": 40058, "errmsg": f"{kind}.content exceed max length {limit}"})
        mentions = part.get("mentioned_mobile_list", []) if kind == "text" else []
        if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
            raise Refused(200, {"errcode": 40035, "errmsg": "invalid mentioned_mobile_list"})
        title = part["content"].split("\n", 1)[0].lstrip("# ")
        return robot.key, title, part["content"], {"errcode": 0, "errmsg": "ok"}, \
            ["all" if m == "@all" else m for m in mentions]

    def dingtalk(self, query: dict[str, str], body: dict[str, Any], raw: bytes) -> Received:
        robot = self._robot("dingtalk", query.get("access_token", ""), 300001, "errcode")
        if robot.secret:
            ts, sign = query.get("timestamp", ""), query.get("sign", "")
            expected = _b64_hmac(robot.secret.encode(), f"{ts}\n{robot.secret}".encode())
            if not _fresh(ts, HOUR, millis=True) or not hmac.compare_digest(sign, expected):
                raise Refused(200, {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com]"})
        self._paced("dingtalk", robot.key, 130101, "errcode")
        kind = body.get("msgtype")
        part = body.get(kind) if kind in ("markdown", "actionCard") else None
        if not isinstance(part, dict) or not all(isinstance(part.get(k), str) and part.get(k) for k in ("title", "text")) \
                or (kind == "actionCard" and not part.get("singleURL")):
            raise Refused(200, {"errcode": 40035, "errmsg": "缺少参数 json"})
        if len(part["text"].encode("utf-8")) > 20000:
            raise Refused(200, {"errcode": 460101, "errmsg": "message too long"})
        at = body.get("at") or {}
        if kind != "markdown" and at:
            raise Refused(200, {"errcode": 40035, "errmsg": "at is only for text and markdown"})
        mentions = [m for m in at.get("atMobiles") or [] if f"@{m}" in part["text"]]
        mentions += ["all"] if at.get("isAtAll") is True else []
        return robot.key, part["title"], part["text"], {"errcode": 0, "errmsg": "ok"}, mentions

    def feishu(self, token: str, body: dict[str, Any], raw: bytes) -> Received:
        robot = self._robot("feishu", token, 19001, "code")
        if robot.secret:
            ts, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            expected = _b64_hmac(f"{ts}\n{robot.secret}".encode(), b"")
            if not _fresh(ts, HOUR) or not hmac.compare_digest(sign, expected):
                raise Refused(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour "
                                                          "from current time"})
        self._paced("feishu", robot.key, 11232, "code")
        if len(raw) > 20 * 1024:
            raise Refused(200, {"code": 19002, "msg": "params error, request body exceeds 20KB"})
        card = body.get("card")
        try:
            title = card["header"]["title"]["content"]
            text = "\n".join(e["text"]["content"] for e in card["elements"] if e.get("tag") == "div")
        except (KeyError, TypeError):
            raise Refused(200, {"code": 19002, "msg": "params error, msg_type interactive needs a card"}) from None
        if body.get("msg_type") != "interactive":
            raise Refused(200, {"code": 19002, "msg": "params error, msg_type need"})
        return robot.key, title, text, {"code": 0, "msg": "success", "data": {}}, FEISHU_AT.findall(text)

    def webhook(self, name: str, headers: Any, body: dict[str, Any], raw: bytes) -> Received:
        robot = self.robots.get(("webhook", name))
        if robot is None:
            raise Refused(404, {"error": "no such webhook"})
        ts, sig = headers.get("X-Yuqing-Timestamp", ""), headers.get("X-Yuqing-Signature", "")
        expected = "sha256=" + hmac.new(robot.secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
        if not _fresh(ts, WEBHOOK_WINDOW) or not hmac.compare_digest(sig, expected):
            raise Refused(401, {"error": "bad signature or stale timestamp"})
        self._paced("webhook", name, 0, "")
        if not isinstance(body.get("title"), str) or not isinstance(body.get("markdown"), str):
            raise Refused(400, {"error": "title and markdown are required"})
        mentions = body.get("mentions") or []
        return name, body["title"], body["markdown"], {"ok": True}, [str(m) for m in mentions]

    # ------------------------------------------------------------------ HTTP
    def handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        platform = {"/cgi-bin/webhook/send": "wecom", "/robot/send": "dingtalk"}.get(parts.path) or \
            ("feishu" if parts.path.startswith("/open-apis/bot/v2/hook/") else
             "webhook" if parts.path.startswith("/webhook/") else "")
        with self._lock:
            self.requests += 1
            if not platform:
                return 404, {"error": "not found"}
            if self._failing:
                self._failing -= 1
                return 502, {"error": "bad gateway"}
            try:
                try:
                    body = json.loads(raw.decode("utf-8"))
                    if not isinstance(body, dict):
                        raise ValueError("not an object")
                except ValueError:
                    raise Refused(400, {"errcode": 40035, "code": 9499, "msg": "invalid JSON"}) from None
                if platform == "wecom":
                    robot, title, text, answer, mentions = self.wecom(query, body, raw)
                elif platform == "dingtalk":
                    robot, title, text, answer, mentions = self.dingtalk(query, body, raw)
                elif platform == "feishu":
                    robot, title, text, answer, mentions = self.feishu(unquote(parts.path.rsplit("/", 1)[1]), body, raw)
                else:
                    robot, title, text, answer, mentions = self.webhook(unquote(parts.path.rsplit("/", 1)[1]), headers, body, raw)
            except Refused as exc:
                self.answers.append((platform, exc.status, exc.answer.get("errcode", exc.answer.get("code"))))
                return exc.status, exc.answer
            self._keep(platform, robot, title, text, body, len(raw), mentions)
            self.answers.append((platform, 200, 0))
            return 200, answer

    def _keep(self, platform: str, robot: str, title: str, text: str, body: dict[str, Any], size: int,
              mentions: list[str]) -> None:
        at = datetime.now(UTC)
        item = {"platform": platform, "robot": robot, "title": title, "text": text, "bytes": size,
                "received_at": at.isoformat(), "mentions": mentions, "body": body}
        self.received.append(item)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{at:%Y%m%dT%H%M%S}-{len(self.received):04d}-{platform}-{robot}.json"
            (self.directory / name).write_text(json.dumps(item, ensure_ascii=False, indent=1), encoding="utf-8")
        if self.echo:
            who = f" @{'、'.join(mentions)}" if mentions else ""
            print(f"群消息 chat [{platform} {robot}] {title}{who}", file=sys.stderr, flush=True)

    def start(self) -> ChatReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = receiver.handle(self.path, self.headers, raw)
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("chat receiver: " + format, *args)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="chat-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ChatReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _robot_arg(spec: str) -> Robot:
    """`platform:key[:secret]` (a webhook: `webhook:NAME:SECRET`)."""
    import argparse

    platform, _, rest = spec.partition(":")
    key, _, secret = rest.partition(":")
    if platform not in LIMITS or not key:
        raise argparse.ArgumentTypeError(f"not a robot: {spec!r} (platform:key[:secret], platform one of "
                                         f"{', '.join(LIMITS)})")
    if platform == "webhook" and not secret:
        raise argparse.ArgumentTypeError(f"a webhook signs every request: give webhook:{key}:SECRET")
    return Robot(platform, key, secret)


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.chatbot --robot wecom:KEY …`: receive on 127.0.0.1 until interrupted, printing each message
    (and writing it to --dir), to try chat channels and their @mentions by hand."""
    import argparse

    from demo import serve_until_interrupted

    parser = argparse.ArgumentParser(description="a local group-robot receiver (WeCom, DingTalk, Feishu, webhook)")
    parser.add_argument("--robot", action="append", type=_robot_arg, required=True,
                        help="platform:key[:secret], repeatable: wecom:KEY, dingtalk:TOKEN[:SEC…], "
                             "feishu:TOKEN[:SECRET], webhook:NAME:SECRET")
    parser.add_argument("--port", type=int, default=18765, help="port on 127.0.0.1 (default 18765)")
    parser.add_argument("--dir", default="", help="also write each received message here as JSON")
    args = parser.parse_args(argv)
    with ChatReceiver(args.robot, args.dir or None, port=args.port, echo=True) as rx:
        print(f"群机器人接收端 chat receiver on {rx.url} — set base_url = \"{rx.url}\" in [channels.NAME]; Ctrl-C stops",
              flush=True)
        return serve_until_interrupted()


if __name__ == "__main__":
    raise SystemExit(main())
