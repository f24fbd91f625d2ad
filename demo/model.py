"""The scenario's posts and the server's responses, shared by the server and the platform renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DemoPost:
    """One scripted post; it becomes visible on its platform once the scenario clock passes `at`."""

    platform: str  # weibo | zhihu | zhidao | heimao
    post_id: str  # the platform's native id
    text: str  # may contain the platform's own markup (HTML for weibo)
    at: datetime  # publication time (tz-aware)
    author_id: str = ""
    author_name: str = ""
    verified: bool = False
    followers: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    region: str = ""  # IP属地, e.g. "广东"
    kind: str = "post"  # post | repost | comment | answer | question | article | complaint
    title: str = ""  # zhihu question title, zhidao question, heimao complaint title
    parent_id: str = ""  # root post / question id
    long_text: str = ""  # weibo: full text served by statuses/extend when the card is truncated
    extra: dict[str, Any] = field(default_factory=dict)  # heimao: object, demands, status; zhihu: question_id...
    tags: tuple[str, ...] = ()  # scenario tags, e.g. ("crisis",)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
