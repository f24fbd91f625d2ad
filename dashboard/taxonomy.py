"""Filter choices from the project's configuration files (watchlist operators, touchpoints, provinces).

Read as data, not imported: the dashboard never imports crawlers or sentiment. Reading the names from
config keeps the filter widgets free of whole-store facets, which are slow on a million posts.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGIONS_FILE = "sentiment/regions.toml"


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p


@lru_cache(maxsize=16)
def table_keys(path: str, table: str) -> tuple[str, ...]:
    """Keys of a TOML table, in file order; () when the file or table is absent or unreadable."""
    try:
        raw = tomllib.loads(_resolve(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    value = raw.get(table)
    return tuple(value) if isinstance(value, dict) else ()


def operators(watchlist: str) -> list[str]:
    return list(table_keys(watchlist, "operators"))


def touchpoints(touchpoints_file: str) -> list[str]:
    names = list(table_keys(touchpoints_file, "touchpoints"))
    return [*names, "其他"] if names else []


def provinces() -> list[str]:
    return list(table_keys(REGIONS_FILE, "provinces"))
