"""Settings fuzzed from the environment and the file: blank, NaN, infinite, huge, binary and wrongly typed values
give a ConfigError naming the field (exit 2 from the CLI), never a traceback and never a silent fallback."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing.config import NOT_BLANK, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Settings) if f.default_factory is not dataclasses.MISSING}
FIELDS = [(sec, f.name, str(f.type)) for sec, cls in SECTIONS.items() for f in dataclasses.fields(cls)]
NUMERIC = [(sec, name) for sec, name, typ in FIELDS if typ in ("int", "float")]
BOOLS = [(sec, name) for sec, name, typ in FIELDS if typ == "bool"]


def _var(section: str, name: str) -> str:
    return f"YUQING_{section.upper()}_{name.upper()}"


@pytest.mark.parametrize(("section", "name"), [p for p in NOT_BLANK if p[0]])
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_text_setting_is_an_error_naming_the_variable(section: str, name: str, blank: str) -> None:
    var = _var(section, name)
    with pytest.raises(ConfigError) as err:
        load_settings(env={var: blank})
    assert f"environment {var}" in str(err.value) and f"[{section}] {name}" in str(err.value)


@pytest.mark.parametrize(("section", "name"), NUMERIC)
@pytest.mark.parametrize("value", ["", "nan", "NaN", "inf", "-inf", "1e309", "99999999999999999999999", "1.5e", "0x10",
                                   "１０", "10 seconds"])
def test_a_number_that_is_no_finite_number_is_an_error(section: str, name: str, value: str) -> None:
    var = _var(section, name)
    with pytest.raises(ConfigError) as err:
        load_settings(env={var: value})
    assert var in str(err.value)


@pytest.mark.parametrize(("section", "name"), BOOLS)
@pytest.mark.parametrize("value", ["", "maybe", "2", "nan"])
def test_a_bool_is_true_or_false_never_a_blank_default(section: str, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=_var(section, name)):
        load_settings(env={_var(section, name): value})


@pytest.mark.parametrize(("line", "field"), [
    ("[crawl]\ninterval_seconds = 1e309\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = inf\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = nan\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = 1.5\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = 99999999999\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = true\n", "[crawl] interval_seconds"),
    ("[crawl]\ninterval_seconds = [1]\n", "[crawl] interval_seconds"),
    ("[smtp]\ntimeout_seconds = nan\n", "[smtp] timeout_seconds"),
    ("[smtp]\ntimeout_seconds = -inf\n", "[smtp] timeout_seconds"),
    ("[smtp]\nhost = 25\n", "[smtp] host"),
    ("[smtp]\nhost = \"\"\n", "[smtp] host"),
    ("[store]\npath = \"\"\n", "[store] path"),
    ("[store]\npath = {a = 1}\n", "[store] path"),
    ("[crawl]\nsources = []\n", "[crawl] sources"),
    ("[crawl]\nsources = [1, 2]\n", "[crawl] sources"),
    ("[crawl]\nobey_robots = \"\"\n", "[crawl] obey_robots"),
    ("[alerts]\nquiet_hours = \"25:00-07:00\"\n", "[alerts] quiet_hours"),
    ("store = 1\n", "[store]"),
    ("timezone = {a = 1}\n", "timezone"),
    ("timezone = \"\"\n", "timezone"),
])
def test_bad_values_in_the_file_name_the_file_and_field(tmp_path: Path, line: str, field: str) -> None:
    f = tmp_path / "y.toml"
    f.write_text(line, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(f, env={})
    assert str(f) in str(err.value) and field in str(err.value)


def test_a_binary_or_unreadable_settings_file_is_a_config_error(tmp_path: Path) -> None:
    binary = tmp_path / "y.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(binary, env={})
    with pytest.raises(ConfigError, match="cannot read the settings file"):
        load_settings(tmp_path, env={})  # a directory
    nul = tmp_path / "nul.toml"
    nul.write_bytes(b'[store]\npath = "a\x00b"\n')
    with pytest.raises(ConfigError, match="not valid TOML|NUL"):
        load_settings(nul, env={})
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(deep, env={})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=st.one_of(
    st.text(max_size=30), st.sampled_from(["", " ", "nan", "inf", "-inf", "1e309", "-1", "0", "true", "false"]),
    st.integers().map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr)))
def test_any_environment_value_loads_or_names_its_variable(field: tuple[str, str, str], value: str) -> None:
    section, name, typ = field
    var = _var(section, name)
    if section == "store" and name == "es_url" and value.strip():
        return  # any text is a URL to try; the store reports an unreachable one
    value = value.replace("\x00", "")  # the environment cannot hold NUL
    try:
        s = load_settings(env={var: value})
    except ConfigError as exc:
        assert var in str(exc), str(exc)
        return
    got = getattr(getattr(s, section), name)
    if typ == "float":
        assert got == got and abs(got) != float("inf")  # finite
    if typ == "str" and (section, name) in NOT_BLANK:
        assert got.strip()


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
              st.text(max_size=20)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6)


def _toml(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').encode("unicode_escape").decode("ascii") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k.encode("unicode_escape").decode("ascii")}" = {_toml(v)}'
                           for k, v in value.items()) + "}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=_values)
def test_any_file_value_loads_or_names_the_file_and_field(tmp_path: Path, field: tuple[str, str, str],
                                                          value: object) -> None:
    section, name, _typ = field
    f = tmp_path / "fuzz.toml"
    f.write_text(f"[{section}]\n{name} = {_toml(value)}\n", encoding="utf-8")
    try:
        load_settings(f, env={})
    except ConfigError as exc:
        assert str(f) in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200))
def test_any_bytes_as_a_settings_file_load_or_give_a_config_error(tmp_path: Path, body: bytes) -> None:
    f = tmp_path / "bytes.toml"
    f.write_bytes(body)
    try:
        load_settings(f, env={})
    except ConfigError as exc:
        assert str(f) in str(exc)


@pytest.mark.parametrize(("var", "value"), [
    ("YUQING_STORE_PATH", ""), ("YUQING_SMTP_TIMEOUT_SECONDS", "nan"), ("YUQING_SMTP_TIMEOUT_SECONDS", "inf"),
    ("YUQING_CRAWL_INTERVAL_SECONDS", "1e309"), ("YUQING_SMTP_PORT", "99999999999999999999"),
])
def test_config_check_exits_2_naming_the_variable_without_a_traceback(tmp_path: Path, var: str, value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env[var] = value
    proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "config", "check"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and var in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_binary_settings_file_gives_exit_2_from_every_command(tmp_path: Path) -> None:
    f = tmp_path / "y.toml"
    f.write_bytes(bytes(range(256)))
    for argv in (["config", "check"], ["sources"], ["alerts", "list"], ["run", "--once"]):
        proc = subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(f), *argv], capture_output=True,
                              text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr and "Traceback" not in proc.stderr, argv
