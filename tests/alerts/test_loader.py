"""The rules file: the shipped one loads; mistakes are named by file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.loader import PACKAGED, load_rules, rules_path
from alerts.rules import RULE_TYPES, RuleError


def test_shipped_rules_cover_every_type() -> None:
    rules = load_rules(PACKAGED)
    assert {r.type_name for r in rules} == set(RULE_TYPES)
    assert len({r.name for r in rules}) == len(rules)


def test_default_path_falls_back_to_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert rules_path("alerts/rules.yaml") == PACKAGED
    assert rules_path("mine.yaml") == Path("mine.yaml")


BAD = [
    ("rules: [{type: volume_spike}]", "rules[0].name"),
    ("rules: [{name: a, type: nope}]", "rules[0] (a).type: unknown rule type 'nope'"),
    ("rules: [{name: a, type: volume_spike, severity: purple}]", "rules[0] (a).severity"),
    ("rules: [{name: a, type: volume_spike, min_count: -1}]", "rules[0] (a).min_count: must be at least 1"),
    ("rules: [{name: a, type: volume_spike, ratio: lots}]", "rules[0] (a).ratio: expected a number"),
    ("rules: [{name: a, type: volume_spike, words: [x]}]", "rules[0] (a).words: unknown field for volume_spike"),
    ("rules: [{name: a, type: escalation, words: []}]", "rules[0] (a).words: expected a non-empty list"),
    ("rules: [{name: a, type: influential, verified: 1}]", "rules[0] (a).verified: expected true or false"),
    ("rules: [{name: a, type: flatline, per_source: {weibo: 0}}]", "rules[0] (a).per_source.weibo"),
    ("rules: [{name: a, type: volume_spike, scope: {city: [深圳]}}]", "rules[0] (a).scope.city: unknown scope field"),
    ("rules: [{name: a, type: volume_spike, scope: {operators: 3}}]", "rules[0] (a).scope.operators"),
    ("rules: [{name: a, type: volume_spike, window_minutes: 0}]", "rules[0] (a).window_minutes"),
    ("rules: [{name: a, type: volume_spike, raise_at: [4, 2]}]", "rules[0] (a).raise_at"),
    ("rules: [{name: a, type: volume_spike}, {name: a, type: flatline}]", "rules[1] (a).name: duplicate"),
    ("rule: []", "expected a mapping with a 'rules' list"),
    ("rules: [{name: a, type: outage_city, labels: [angry]}]", "rules[0] (a).labels: expected a non-empty list"),
    ("rules: [{name: a, type: volume_spike, labels: [neutral]}]", "rules[0] (a).labels: volume_spike counts negative"),
    ("defaults: {min_cnt: 3}\nrules: []", "defaults.min_cnt: not a field of any rule type"),
    ("rules: [a: [", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_errors_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as exc:
        load_rules(path)
    assert str(exc.value).startswith(str(path)) and message in str(exc.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="rules file not found"):
        load_rules(tmp_path / "absent.yaml")


def test_disabled_rules_are_skipped_and_defaults_apply(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("defaults: {window_minutes: 20, min_count: 4}\nrules:\n - {name: a, type: volume_spike, enabled: false}\n"
                    " - {name: b, type: escalation, scope: {operators: 中国电信}}\n"
                    " - {name: c, type: outage_city}\n", encoding="utf-8")
    b, c = load_rules(path)
    assert b.name == "b" and b.window_minutes == 20 and b.scope.operators == ("中国电信",)
    assert c.p["min_count"] == 4 and "min_count" not in b.p  # a default applies where the type has the field


def test_labels_choose_which_posts_a_rule_reads(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n - {name: a, type: influential, labels: [negative, neutral]}\n"
                    " - {name: b, type: outage_city}\n - {name: c, type: influential}\n", encoding="utf-8")
    a, b, c = load_rules(path)
    assert a.labels == ("negative", "neutral") and b.labels == ("negative", "neutral") and c.labels == ("negative",)
