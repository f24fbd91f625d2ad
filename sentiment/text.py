"""Normalise post text: HTML, emoticons, @mentions, links, #topics#, full-width forms, repeated characters.

Emoticons such as `[怒]` are kept as tokens: they carry sentiment. Mentions and links are dropped (a name
or a URL says nothing about mood), topics keep their words without the `#` marks.
"""

from __future__ import annotations

import html
import re
import unicodedata

_IMG_ALT = re.compile(r"<img\b[^>]*?\balt=[\"']?(\[[^\]\"'<>]{1,8}\])[^>]*>", re.I)
_BR = re.compile(r"<br\s*/?>|</p>|</div>", re.I)
_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"(?:https?://|www\.)[\w\-./?%&=#:~+@!,;]*[\w/]|\b[a-z0-9\-]+\.(?:cn|com|net)/[\w\-./?%&=]*", re.I)
_MENTION = re.compile(r"(?:回复)?@(?P<name>[\w\-\u4e00-\u9fff·]{1,30})(?:[:：]\s*)?")
_TOPIC = re.compile(r"\{?%?#([^#\n]{1,40})#%?\}?")
_WEIBO_CARD = re.compile(r"网页链接|O网页链接|\u200b|\ufeff|L\w{1,20}的微博视频|展开全文c?|全文$")
_REPEAT = re.compile(r"(.)\1{3,}")
_REPEAT2 = re.compile(r"(..)\1{3,}")
_SPACE = re.compile(r"\s+")
EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z0-9]{1,8}\]")


_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _width(text: str) -> str:
    """Full-width ASCII and the ideographic space to half-width; CJK punctuation such as 。、 is left as it is."""
    return text.translate(_WIDTH)


def normalize(text: str) -> str:
    """One clean line of text: emoticons kept as `[怒]`, no HTML, mentions or links, runs of a char cut to three."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _IMG_ALT.sub(r"\1", text)
        text = _BR.sub(" ", text)
        text = _TAG.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _width(text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _TOPIC.sub(r" \1 ", text)
    text = _WEIBO_CARD.sub(" ", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    text = _REPEAT2.sub(r"\1\1", text)
    return _SPACE.sub(" ", text).strip()


def emoticons(text: str) -> list[str]:
    """The emoticon tokens of normalised text, in order: ['[怒]', '[哈哈]']."""
    return EMOTICON.findall(text)


def mentions(raw: str) -> list[str]:
    """Account names @-mentioned in raw post text (`@中国电信客服` -> `中国电信客服`): they name who a post is about."""
    return [m.group("name") for m in _MENTION.finditer(raw or "")]
