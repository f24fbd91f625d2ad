"""Load the YAML rules file into Rule objects, validated with the file, the rule and the field named on error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alerts.rules import RULE_TYPES, Rule, RuleError, build_rule
from alerts.window import SCOPE_FIELDS, Scope
from yuqing.vocab import LABELS, SEVERITIES

PACKAGED = Path(__file__).with_name("rules.yaml")
COMMON = {"name", "type", "severity", "scope", "window_minutes", "raise_at", "realert_minutes", "enabled", "description",
          "labels"}


def rules_path(configured: str) -> Path:
    """The configured rules file; the packaged default when the configured one is the default and absent."""
    path = Path(configured)
    if not path.exists() and path.as_posix().endswith("alerts/rules.yaml"):
        return PACKAGED
    return path


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleError(f"{path}: rules file not found") from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from None


def load_rules(path: str | Path) -> list[Rule]:
    """Every enabled rule in the file; RuleError naming file and field on the first problem."""
    path = Path(path)
    return parse_rules(_read(path), str(path))


def load_rule_names(path: str | Path) -> tuple[str, ...]:
    """The name of every rule in the (valid) file, disabled ones included, in file order."""
    path = Path(path)
    raw = _read(path)
    parse_rules(raw, str(path))
    return tuple(item["name"] for item in raw["rules"])


def parse_rules(raw: Any, source: str = "rules") -> list[Rule]:
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise RuleError(f"{source}: expected a mapping with a 'rules' list")
    unknown_top = set(raw) - {"rules", "defaults"}
    if unknown_top:
        raise RuleError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown_top))}")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise RuleError(f"{source}: defaults: expected a mapping")
    known = COMMON.union(*(cls.PARAMS for cls in RULE_TYPES.values())) - {"name", "type"}
    for field in defaults:
        if field not in known:
            raise RuleError(f"{source}: defaults.{field}: not a field of any rule type")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["rules"]):
        where = f"{source}: rules[{i}]"
        if not isinstance(item, dict):
            raise RuleError(f"{where}: expected a mapping")
        cls = RULE_TYPES.get(item.get("type"))  # type: ignore[arg-type]
        applicable = {k: v for k, v in defaults.items() if k in COMMON or (cls is not None and k in cls.PARAMS)}
        item = {**applicable, **item}
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RuleError(f"{where}.name: required, a non-empty string")
        where = f"{where} ({name})"
        if name in seen:
            raise RuleError(f"{where}.name: duplicate rule name")
        seen.add(name)
        rule = _parse_rule(item, name, where)
        if item.get("enabled", True) is not False:
            rules.append(rule)
    return rules


def _parse_rule(item: dict[str, Any], name: str, where: str) -> Rule:
    type_name = item.get("type")
    if type_name not in RULE_TYPES:
        raise RuleError(f"{where}.type: unknown rule type {type_name!r} (known: {', '.join(sorted(RULE_TYPES))})")
    cls = RULE_TYPES[type_name]
    unknown = set(item) - COMMON - set(cls.PARAMS)
    if unknown:
        field = sorted(unknown)[0]
        raise RuleError(f"{where}.{field}: unknown field for {type_name} (allowed: {', '.join(sorted(cls.PARAMS))})")
    severity = item.get("severity", cls.default_severity)
    if severity not in SEVERITIES:
        raise RuleError(f"{where}.severity: must be one of {', '.join(SEVERITIES)} (蓝 黄 橙 红), got {severity!r}")
    if "enabled" in item and not isinstance(item["enabled"], bool):
        raise RuleError(f"{where}.enabled: expected true or false")
    kw: dict[str, Any] = {"severity": severity, "scope": _parse_scope(item.get("scope"), f"{where}.scope")}
    for field in ("window_minutes", "realert_minutes"):
        if field in item:
            value = item[field]
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if field == "window_minutes" else 0):
                raise RuleError(f"{where}.{field}: expected a whole number of minutes, got {value!r}")
            kw[field] = value
    if "raise_at" in item:
        steps = item["raise_at"]
        if (not isinstance(steps, list) or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in steps)
                or sorted(steps) != steps or any(s <= 1 for s in steps)):
            raise RuleError(f"{where}.raise_at: expected an ascending list of multiples above 1, got {steps!r}")
        kw["raise_at"] = tuple(float(s) for s in steps)
    if "labels" in item:
        labels = item["labels"]
        if not isinstance(labels, list) or not labels or any(v not in LABELS for v in labels):
            raise RuleError(f"{where}.labels: expected a non-empty list of {', '.join(LABELS)}, got {labels!r}")
        if not cls.labels_configurable:
            raise RuleError(f"{where}.labels: {type_name} counts negative posts by definition; remove labels")
        kw["labels"] = tuple(labels)
    for field, spec in cls.PARAMS.items():
        if field in item:
            kw[field] = spec.coerce(item[field], f"{where}.{field}")
    try:
        return build_rule(type_name, name, **kw)
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None


def _parse_scope(raw: Any, where: str) -> Scope:
    if raw is None:
        return Scope()
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: expected a mapping with {', '.join(SCOPE_FIELDS)}")
    values: dict[str, tuple[str, ...]] = {}
    for field, value in raw.items():
        if field not in SCOPE_FIELDS:
            raise RuleError(f"{where}.{field}: unknown scope field (allowed: {', '.join(SCOPE_FIELDS)})")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RuleError(f"{where}.{field}: expected a list of names")
        values[field] = tuple(value)
    return Scope(**values)
