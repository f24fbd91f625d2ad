"""Decode page bytes by what they are, not by the charset they declare.

Real Zhidao pages declare GBK but are UTF-8 and vice versa, so we try UTF-8 strictly
(it almost never decodes non-UTF-8 text by accident), then GB18030 (a superset of GBK).
"""

from __future__ import annotations

import codecs


def decode(body: bytes | str) -> str:
    """Text of `body`: UTF-8 (BOM stripped) if it decodes strictly, else GB18030, else UTF-8 with U+FFFD."""
    if isinstance(body, str):
        return body
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace")


def detect_encoding(body: bytes) -> str:
    """The name of the codec `decode` would use for `body` ("utf-8" or "gb18030")."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
