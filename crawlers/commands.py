"""Crawler sub-commands for the `yuqing` CLI; each lives in its own module and registers here."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    from crawlers import crawl_command, parse_command

    parse_command.register(sub)
    crawl_command.register(sub)
