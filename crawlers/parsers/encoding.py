"""Decode page bytes by what they are, not by the charset they declare.

Real Zhidao pages declare GBK but are UTF-8 and vice versa, so we try UTF-8 strictly
(it almost never decodes non-UTF-8 text by accident), then GB18030 (a superset of GBK).
A body cut off inside its last character still decodes in its own codec (the broken tail
becomes U+FFFD); the parsers then notice the missing end of the page.
"""

from __future__ import annotations

import codecs

_CODECS = ("utf-8", "gb18030")


def _decode(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.end >= len(body) and exc.start >= len(body) - 4:  # only the last character is incomplete
            head = body[: exc.start]
            if _ok(head, codec):
                return head.decode(codec) + "\ufffd"
        return None


def _ok(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
        return True
    except UnicodeDecodeError:
        return False


def decode(body: bytes | str) -> str:
    """Text of `body`: UTF-8 (BOM stripped) if it decodes strictly, else GB18030, else the codec with fewer errors."""
    if isinstance(body, str):
        return body
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    for codec in _CODECS:
        text = _decode(body, codec)
        if text is not None:
            return text
    candidates = [body.decode(codec, errors="replace") for codec in _CODECS]
    return min(candidates, key=lambda text: text.count("\ufffd"))

