"""Settings: one TOML file plus YUQING_* environment, validated once, errors name file and field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yuqing.config import ConfigError, load_settings, masked


def test_defaults_without_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={})
    assert s.store_backend == "sqlite" and s.store.path == "var/yuqing.db"
    assert s.timezone == "Asia/Shanghai"


def test_file_then_environment_override(tmp_path: Path) -> None:
    f = tmp_path / "y.toml"
    f.write_text('[smtp]\nhost = "mail.example"\nport = 2525\n[crawl]\nsources = ["weibo"]\n', encoding="utf-8")
    s = load_settings(f, env={"YUQING_SMTP_PORT": "2626", "YUQING_CRAWL_OBEY_ROBOTS": "false"})
    assert (s.smtp.host, s.smtp.port, s.crawl.sources, s.crawl.obey_robots) == ("mail.example", 2626, ("weibo",), False)


def test_es_url_switches_backend_and_is_masked() -> None:
    s = load_settings(env={"YUQING_ES_URL": "http://elastic:secret@127.0.0.1:9200"})
    assert s.store_backend == "elasticsearch"
    assert "elastic:secret" not in json.dumps(masked(s))


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("[smtp]\nport = 70000\n", {}, "[smtp] port"),
        ("[smtp]\nprot = 25\n", {}, "unknown field 'prot'"),
        ("[smtp]\npassword = \"hunter2\"\n", {}, "secrets are read from the environment only"),
        ("[crawl]\nsources = [\"myspace\"]\n", {}, "[crawl] sources"),
        ("[alerts]\ninterval_seconds = \"soon\"\n", {}, "[alerts] interval_seconds"),
        ("[crawl]\nzhihu_signer = \"my_signer.py\"\n", {}, "[crawl] zhihu_signer"),
        ("not toml = = =\n", {}, "not valid TOML"),
        ("", {"YUQING_SMTP_PORT": "x"}, "YUQING_SMTP_PORT"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, env: dict[str, str], expected: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(f, env=env)
    assert expected in str(err.value)
    if not env:
        assert str(f) in str(err.value)


def test_config_check_command(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[smtp]\nhost = "127.0.0.1"\n', encoding="utf-8")
    env = {"PATH": "", "YUQING_SMTP_PASSWORD": "hunter2"}
    ok = subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(good), "config", "check"],
                        capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(ok.stdout)
    assert shown["smtp"]["password"] == "***" and "hunter2" not in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\nbackend = \"mongo\"\n", encoding="utf-8")
    fail = subprocess.run([sys.executable, "-m", "yuqing.cli", "--config", str(bad), "config", "check"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert fail.returncode == 2
    assert str(bad) in fail.stderr and "backend" in fail.stderr


def test_example_settings_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "yuqing.example.toml"
    s = load_settings(example, env={})
    assert s.crawl.sources == ("weibo", "zhihu", "zhidao", "heimao")
