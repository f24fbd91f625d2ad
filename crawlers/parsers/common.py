"""Small pieces every parser uses: JSON loading with clear errors, query params, rejects."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

from yuqing.records import Rejected

from .base import Blocked, ParseError
from .encoding import decode

BLOCK_WORDS = ("请先登录", "登录后", "验证码", "安全验证", "访问过于频繁", "请求过于频繁", "操作过于频繁", "频率过高",
               "captcha", "访问受限", "系统繁忙，请稍后再试", "异常访问")


_JSONP = re.compile(r"^(?:/\*\*/\s*)?(?:try\{)?[\w$.]+\((.*)\)\s*;?\s*(?:\}catch\(e\)\{\};?)?$", re.S)


def looks_blocked(text: str) -> bool:
    """True when a message or page says we hit a login wall, captcha or rate limit."""
    low = text.lower()
    return any(word.lower() in low for word in BLOCK_WORDS)


def load_json(body: bytes | str, url: str, expected: str) -> Any:
    """Parse a JSON body; HTML or truncated text raises ParseError (Blocked for login/captcha pages)."""
    text = decode(body).strip()
    if not text:
        raise ParseError(f"{url}: empty body, expected {expected}")
    if text[0] == "<":
        if looks_blocked(text[:20000]) or "passport." in text[:20000]:
            raise Blocked(f"{url}: got a login/captcha HTML page instead of {expected}")
        raise ParseError(f"{url}: got HTML instead of {expected} JSON (starts {text[:60]!r})")
    jsonp = _JSONP.match(text)
    if jsonp:  # callback=jQuery123(...) wrapping, as tousu.sina.com.cn answers when asked
        text = jsonp.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{url}: malformed or truncated JSON, expected {expected}: {exc}") from None
    except RecursionError:
        raise ParseError(f"{url}: JSON nested too deeply to be a {expected} (refused, not parsed)") from None


def html_document(text: str, url: str, expected: str) -> Any:
    """The parsed HTML document; an empty or unreadable page is a ParseError naming what was expected."""
    import lxml.html
    from lxml.etree import LxmlError

    if not text.strip():
        raise ParseError(f"{url}: empty page, expected {expected}")
    try:
        return lxml.html.document_fromstring(text)
    except (LxmlError, ValueError) as exc:
        raise ParseError(f"{url}: not a readable HTML page, expected {expected}: {exc}") from None


def require_complete_html(text: str, url: str) -> None:
    """A whole HTML document must end with </html>; a page cut off in transit must not lose its tail silently."""
    tail = text[-2000:].lower()
    if "<html" in text[:5000].lower() and "</html>" not in tail:
        raise ParseError(f"{url}: truncated HTML page (no closing </html>)")


def require(obj: Any, path: str, url: str, expected: str) -> Any:
    """obj[a][b]... along a dotted path, or ParseError naming the url and the missing key."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            raise ParseError(f"{url}: changed layout, no {path!r} in {expected} (missing {part!r})")
        current = current[part]
    return current


def query(url: str) -> dict[str, str]:
    """The URL's query parameters, first value of each; percent-escapes are decoded by their bytes
    (UTF-8, else GB18030: Zhidao links carry GBK-encoded words with ie=gbk)."""
    out: dict[str, str] = {}
    raw = quote(urlsplit(url).query, safe="=&%+;/:,@!$'()*~?")  # raw non-ASCII text becomes UTF-8 escapes
    for key, value in parse_qsl(raw, keep_blank_values=True, encoding="latin-1"):
        out.setdefault(key, decode(value.encode("latin-1")))
    return out


def int_param(url: str, name: str, default: int) -> int:
    """An integer query parameter (page, pn); junk or absent gives `default`."""
    value = query(url).get(name, "")
    return int(value) if value.isdigit() else default


def with_query(url: str, **changes: object) -> str:
    """`url` with some query parameters set (None removes one); the others stay byte for byte."""
    parts = urlsplit(url)
    pairs = [pair for pair in parts.query.split("&") if pair]
    kept = [pair for pair in pairs if unquote_plus(pair.split("=", 1)[0]) not in changes]
    added = [f"{quote(key, safe='')}={quote(str(value), safe='')}" for key, value in changes.items() if value is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept + added), parts.fragment))


# What reading an item (or a page) of a changed layout may raise besides our own errors.
UNFORESEEN: tuple[type[BaseException], ...] = (AttributeError, TypeError, KeyError, IndexError, ValueError,
                                               RecursionError)


def unreadable(source: str, url: str, item: object, now: datetime, exc: BaseException) -> Rejected:
    """A rejection for an item the parser could not read: the item is counted, the rest of the page kept."""
    what = f"{type(exc).__name__}: {exc}"[:160]
    try:
        return reject(source, f"unreadable item ({what})", url, item, now)
    except (TypeError, ValueError, RecursionError):
        return reject(source, f"unreadable item ({what})", url, repr(item)[:500], now)


def reject(source: str, reason: str, url: str, item: object, now: datetime) -> Rejected:
    """A parse-stage rejection with the first bytes of the item for the dashboard."""
    sample = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, default=str)
    return Rejected(source=source, stage="parse", reason=reason, url=url, sample=sample[:500], at=now)


_IP_REGION = re.compile(r"IP\s*属地\s*[:：]?\s*([\u4e00-\u9fff]{2,8})")


def ip_region_in(text: str) -> str:
    """The place of an "IP属地：广东" label inside page text, or ''."""
    match = _IP_REGION.search(text)
    return match.group(1) if match else ""


def as_map(value: object) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one (a field of the wrong type reads as absent)."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str:
    """An id as text ('' for None); ints stay exact."""
    if value is None:
        return ""
    return str(value).strip()
