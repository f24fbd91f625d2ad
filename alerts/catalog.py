"""The names a subscriber or a silence may use: platforms, operators, touchpoints and rules, from the configured
files. The watchlist and touchpoint TOML files are read directly (alerts does not import crawlers)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from alerts.loader import load_rule_names, rules_path
from alerts.rules import RULE_TYPES, RuleError
from alerts.window import PLATFORM_ZH as PLATFORM_ZH  # re-exported: the names a subscriber may use
from yuqing.config import Settings

ROOT = Path(__file__).resolve().parents[1]
OTHER_TOUCHPOINT = "其他"  # what sentiment gives a post that matches no touchpoint


class CatalogError(ValueError):
    """A file that lists the known names cannot be read; the message (Chinese) names the file."""


def resolve(configured: str) -> Path:
    """A configured path as given when it exists (or is absolute), else relative to the project root."""
    path = Path(configured)
    return path if path.is_absolute() or path.exists() else ROOT / path


def _table_names(configured: str, table: str, what: str) -> tuple[str, ...]:
    path = resolve(configured)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"读不到{what}文件 {path}：{exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{what}文件 {path} 不是有效的 TOML：" + " ".join(str(exc).split())) from None
    names = data.get(table)
    if not isinstance(names, dict) or not names:
        raise CatalogError(f"{what}文件 {path} 里没有 [{table}] 表")
    return tuple(names)


def platforms(settings: Settings) -> tuple[str, ...]:
    """The configured sources (weibo, zhihu, zhidao, heimao, tieba, bilibili by default)."""
    return tuple(settings.crawl.sources)


def operators(settings: Settings) -> tuple[str, ...]:
    """Canonical operator names of the watchlist ([operators."中国电信"] …)."""
    return _table_names(settings.crawl.watchlist, "operators", "运营商清单")


def touchpoints(settings: Settings) -> tuple[str, ...]:
    """Touchpoint names of the taxonomy, plus 其他 for posts that match none."""
    names = _table_names(settings.sentiment.touchpoints, "touchpoints", "触点")
    return names if OTHER_TOUCHPOINT in names else (*names, OTHER_TOUCHPOINT)


def rule_names(settings: Settings) -> tuple[str, ...]:
    """Every rule name in the configured rules file (disabled rules too)."""
    try:
        return load_rule_names(rules_path(settings.alerts.rules))
    except RuleError as exc:
        raise CatalogError("规则文件错误：" + " ".join(str(exc).split())) from None  # one line (YAML errors span several)


def rule_types() -> tuple[str, ...]:
    return tuple(RULE_TYPES)
