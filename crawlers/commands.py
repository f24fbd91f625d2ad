"""Crawler sub-commands for the `yuqing` CLI; each lives in its own module and registers here."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    from crawlers import crawl_command, parse_command

    parse_command.register(sub)
    crawl_command.register(sub)


def check_settings(settings: Any) -> list[str]:
    """Problems `yuqing config check` reports for the crawlers: the [crawl] watchlist file reads and is valid."""
    from crawlers.watchlist import WatchlistError, load_watchlist

    try:
        load_watchlist(settings.crawl.watchlist)
    except WatchlistError as exc:
        return [f"[crawl] watchlist: {exc}"]
    return []
