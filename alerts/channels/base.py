"""What every chat channel shares: the message, the platform's answer, the HTTP POST (stdlib, a timeout, no
redirects), cutting a body to the size limit with a link, and masking the key and secret out of any text."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from yuqing.config import ChannelSettings

OK, RETRY, RATE_LIMITED, PERMANENT = "ok", "retry", "rate_limited", "permanent"
CUT_NOTE = "\n\n……（内容过长，已截断）"


@dataclass(frozen=True)
class ChatMessage:
    """A rendered message for a chat group: title, Markdown body, and the page that holds the whole story."""

    title: str
    markdown: str
    link: str = ""
    mentions: tuple[str, ...] = ()  # who the robot @s: "all", mobile numbers, or (Feishu) open_ids / emails


@dataclass(frozen=True)
class Answer:
    """The platform's answer to one send: `kind` is ok, retry, rate_limited or permanent; `status` the HTTP
    status (0: no answer at all), `code` the platform's code, `detail` its message or the network error."""

    kind: str
    status: int = 0
    code: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == OK

    def describe(self) -> str:
        head = f"HTTP {self.status}" if self.status else "无应答"
        code = f" code {self.code}" if self.code else ""
        return f"{head}{code}: {self.detail}"[:500]


MD_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")


def plain_text(markdown: str) -> str:
    """Chat Markdown as plain text, for a message type that shows no formatting (WeCom text): headings, bold and
    quote marks dropped, a link written as its label and address."""
    text = MD_LINK.sub(lambda m: f"{m.group(1)}：{m.group(2)}" if m.group(1) else m.group(2), markdown)
    lines = [re.sub(r"^(#{1,6} |> ?)", "", line) for line in text.split("\n")]
    return "\n".join(lines).replace("**", "")


def mention_split(mentions: tuple[str, ...]) -> tuple[bool, list[str]]:
    """(whether everyone is mentioned, the others)."""
    return "all" in mentions, [m for m in mentions if m != "all"]


def mask(text: str, *secrets: str) -> str:
    """The text with every non-empty secret replaced by ***."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


_WHOLE = re.compile(r"\[[^\]\n]*\](?:\([^)\s]+\))?")  # a Markdown link, or a bracketed token such as [怒]


def cut_to_fit(markdown: str, link: str, fits: Callable[[str], bool]) -> str:
    """The Markdown as it is when it fits, else its longest prefix (on a character boundary, never inside a link or
    an emoticon: a half link would show as "[原帖" or a broken address) followed by a note and the link to the
    dashboard that still fits; the note and link alone when nothing more does."""
    if fits(markdown):
        return markdown
    tail = CUT_NOTE + (f"\n[查看完整内容]({link})" if link else "")
    lo, hi = 0, len(markdown)
    while lo < hi:  # the longest prefix n with fits(prefix + tail)
        mid = (lo + hi + 1) // 2
        if fits(markdown[:mid].rstrip() + tail):
            lo = mid
        else:
            hi = mid - 1
    for m in _WHOLE.finditer(markdown, 0, lo + 1024):  # a link or [表情] the cut falls inside goes whole
        if m.start() < lo < m.end():
            lo = m.start()
            break
    return markdown[:lo].rstrip() + tail


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a robot address that redirects is wrong: report it, do not follow it


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


class Channel(ABC):
    """One configured channel. Subclasses give the platform's defaults and `build` / `read`."""

    type_name: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    default_rate_per_minute: ClassVar[int] = 20
    default_max_bytes: ClassVar[int] = 4096
    per_second: ClassVar[float] = 0.0  # a per-second limit beside the per-minute one (0: none)

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.base_url = (settings.base_url or self.default_base_url).rstrip("/")
        self.rate_per_minute = settings.rate_per_minute or self.default_rate_per_minute
        self.max_bytes = settings.max_bytes or self.default_max_bytes

    @property
    def min_interval(self) -> float:
        """Seconds between two sends of one delivery round (the per-second limit)."""
        return 1.0 / self.per_second if self.per_second else 0.0

    def problem(self) -> str:
        """Why this channel cannot send ("" when it can): a key or secret variable that is unset."""
        s = self.settings
        if s.key_env and not s.key:
            return f"key_env: environment variable {s.key_env} is not set"
        if s.secret_env and not s.secret:
            return f"secret_env: environment variable {s.secret_env} is not set"
        return ""

    @abstractmethod
    def build(self, msg: ChatMessage, now: datetime) -> tuple[str, dict[str, str], bytes]:
        """(URL, headers, body) of the platform's request for this message at `now`."""

    @abstractmethod
    def read(self, status: int, body: bytes) -> Answer:
        """The Answer for an HTTP status and response body."""

    def send(self, msg: ChatMessage, now: datetime) -> Answer:
        """POST the message; the answer with the key and secret masked out of it."""
        problem = self.problem()
        if problem:
            return Answer(PERMANENT, detail=problem)
        url, headers, body = self.build(msg, now)
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8", **headers})
        try:
            with _OPENER.open(request, timeout=self.settings.timeout_seconds) as response:
                answer = self.read(response.status, response.read(65536))
        except urllib.error.HTTPError as exc:
            answer = self.read(exc.code, exc.read(65536) if exc.fp else b"")
        except (OSError, ValueError) as exc:  # refused, reset, timed out, DNS: try again later
            answer = Answer(RETRY, detail=f"{type(exc).__name__}: {getattr(exc, 'reason', None) or exc}")
        return Answer(answer.kind, answer.status, answer.code,
                      mask(answer.detail, self.settings.key, self.settings.secret))

    @staticmethod
    def dumps(payload: Any) -> bytes:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def by_http(status: int) -> str | None:
    """The kind an HTTP status alone decides: 5xx retry, 429 rate limited, another 4xx (or a redirect) permanent;
    None for 2xx (the body decides)."""
    if 200 <= status < 300:
        return None
    if status == 429:
        return RATE_LIMITED
    return RETRY if status >= 500 else PERMANENT


def read_coded(status: int, body: bytes, code_field: str, msg_field: str, rate_codes: set[int],
               retry_codes: set[int]) -> Answer:
    """The answer of a platform that says {code_field: 0, msg_field: "ok"} (WeCom, DingTalk, Feishu): 0 accepted;
    its rate-limit codes and busy codes retried; any other code permanent (a wrong key, a failed signature, a
    message it refuses: sending it again would fail again)."""
    text = body.decode("utf-8", "replace")[:300]
    kind = by_http(status)
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get(code_field), int):
        return Answer(kind or RETRY, status, "", f"unexpected answer: {text}")
    code = doc[code_field]
    detail = str(doc.get(msg_field, ""))[:300]
    if kind is None and code == 0:
        return Answer(OK, status, "0", detail or "ok")
    if code in rate_codes:
        return Answer(RATE_LIMITED, status, str(code), detail)
    if code in retry_codes:
        return Answer(RETRY, status, str(code), detail)
    return Answer(kind if kind in (RETRY, RATE_LIMITED) else PERMANENT, status, str(code), detail)
