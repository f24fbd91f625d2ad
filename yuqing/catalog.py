"""The names configured files give the apps: watched operators, touchpoints (plus 其他), provinces, alert rule
names and types, platforms. Read as data (TOML, YAML), so the dashboard and the alerts app share them without
importing crawlers, sentiment or each other; the files themselves are validated by their own apps
(`yuqing config check`)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from yuqing.vocab import OTHER, PROVINCES, RULE_TYPE_ZH

ROOT = Path(__file__).resolve().parents[1]
PACKAGED_RULES = ROOT / "alerts" / "rules.yaml"


class CatalogError(ValueError):
    """A file that lists the known names cannot be read; the message (Chinese) names the file."""


def resolve(configured: str) -> Path:
    """A configured path as given when it exists (or is absolute), else relative to the project root."""
    path = Path(configured)
    return path if path.is_absolute() or path.exists() else ROOT / path


def rules_path(configured: str) -> Path:
    """The configured rules file; the packaged default when the configured one is the default and absent."""
    path = Path(configured)
    if not path.exists() and path.as_posix().endswith("alerts/rules.yaml"):
        return PACKAGED_RULES
    return path


@lru_cache(maxsize=32)
def _table(path: Path, mtime: float, table: str, what: str) -> tuple[str, ...]:
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


def _names(configured: str, table: str, what: str) -> tuple[str, ...]:
    path = resolve(configured)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _table(path, mtime, table, what)


def platforms(settings: Any) -> tuple[str, ...]:
    """The configured sources (weibo, zhihu, zhidao, heimao)."""
    return tuple(settings.crawl.sources)


def operators(settings: Any) -> tuple[str, ...]:
    """Canonical operator names of the watchlist ([operators."中国电信"] …)."""
    return _names(settings.crawl.watchlist, "operators", "运营商清单")


def touchpoints(settings: Any) -> tuple[str, ...]:
    """Touchpoint names of the taxonomy, plus 其他 for posts that match none."""
    names = _names(settings.sentiment.touchpoints, "touchpoints", "触点")
    return names if OTHER in names else (*names, OTHER)


def provinces() -> tuple[str, ...]:
    return PROVINCES


def _rules(settings: Any) -> list[dict[str, Any]]:
    import yaml

    path = rules_path(settings.alerts.rules)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"规则文件错误：{path}: rules file not found") from None
    except OSError as exc:
        raise CatalogError(f"规则文件错误：{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:  # one line (YAML errors span several), as `yuqing alerts silence` says it
        raise CatalogError(f"规则文件错误：{path}: not valid YAML: " + " ".join(str(exc).split())) from None
    rules = raw.get("rules") if isinstance(raw, dict) else None
    if not isinstance(rules, list):
        raise CatalogError(f"规则文件错误：{path}: expected a mapping with a 'rules' list")
    return [r for r in rules if isinstance(r, dict)]


def rule_names(settings: Any) -> tuple[str, ...]:
    """Every rule name in the configured rules file (disabled rules too), in file order."""
    return tuple(str(r["name"]) for r in _rules(settings) if r.get("name"))


def rule_types(settings: Any = None) -> tuple[str, ...]:
    """Every rule type (a subscriber may ask for a whole type, e.g. flatline); no file needed."""
    return tuple(RULE_TYPE_ZH)
