"""Settings: one TOML file plus YUQING_* environment, validated once, errors name file and field."""

from __future__ import annotations

import json
import os
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
    assert s.crawl.sources == ("weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[crawl]\nmax_pages = 0\n", "[crawl] max_pages: must be at least 1, got 0"),
        ("[crawl]\ntimeout_seconds = -5\n", "[crawl] timeout_seconds: must be at least 1"),
        ("[crawl]\nconcurrent_per_domain = 0\n", "[crawl] concurrent_per_domain"),
        ("[crawl]\ndownload_delay = -1.0\n", "[crawl] download_delay: must be at least 0"),
        ("[sentiment]\nbatch_size = 0\n", "[sentiment] batch_size"),
        ("[alerts]\nrealert_minutes = -1\n", "[alerts] realert_minutes"),
        ("[smtp]\nmax_attempts = 0\n", "[smtp] max_attempts"),
        ("[smtp]\ntimeout_seconds = 0\n", "[smtp] timeout_seconds"),
        ("[dashboard]\nport = 0\n", "[dashboard] port: must be 1..65535"),
        ("[dashboard]\nreply_due_minutes = 0\n", "[dashboard] reply_due_minutes"),
        ("[dashboard]\nlogin_lock_minutes = 0\n", "[dashboard] login_lock_minutes"),
        ("[store]\nes_replicas = -1\n", "[store] es_replicas"),
    ],
)
def test_values_below_their_range_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "range.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(f, env={})
    assert f"{f}: {expected}" in str(err.value)


def test_a_top_level_setting_is_named_without_empty_brackets(tmp_path: Path) -> None:
    f = tmp_path / "tz.toml"
    f.write_text('timezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(f, env={})
    assert str(err.value) == f"{f}: timezone: unknown time zone 'Mars/Olympus'"


def config_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from yuqing.cli import main

    code = main(["--config", str(path), "config", "check"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[sentiment]\nmodel = "nosuch"\n', "[sentiment] model: unknown sentiment model 'nosuch'"),
        ('[sentiment]\ntouchpoints = "no_touchpoints.toml"\n', "[sentiment] touchpoints: "),
        ('[crawl]\nwatchlist = "no_watchlist.toml"\n', "[crawl] watchlist: watchlist file not found: no_watchlist.toml"),
        ('[alerts]\nrules = "nosuch.yaml"\n', "[alerts] rules: nosuch.yaml: rules file not found"),
    ],
)
def test_config_check_verifies_what_the_settings_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], text: str,
                                                      expected: str) -> None:
    """These passed `config check` and failed only later (a crawl that stored nothing, `alerts run-once`)."""
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("YUQING_")]:
        monkeypatch.delenv(var)
    f = tmp_path / "named.toml"
    f.write_text(text, encoding="utf-8")
    code, out, err = config_check(f, capsys)
    assert code == 2 and out == ""
    assert f"config error: {f}: {expected}" in err
    if "touchpoints" in text:
        assert "no_touchpoints.toml" in err


def test_config_check_passes_the_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # relative defaults still find the files shipped with the package
    for var in [v for v in os.environ if v.startswith("YUQING_")]:
        monkeypatch.delenv(var)
    f = tmp_path / "fine.toml"
    f.write_text('[sentiment]\nmodel = "snownlp"\n', encoding="utf-8")
    code, out, err = config_check(f, capsys)
    assert code == 0, err
    assert json.loads(out)["sentiment"]["model"] == "snownlp"


def test_config_check_names_the_environment_variable_that_set_a_bad_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for var in [v for v in os.environ if v.startswith("YUQING_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("YUQING_SENTIMENT_MODEL", "bogus")
    f = tmp_path / "empty.toml"
    f.write_text("", encoding="utf-8")
    code, out, err = config_check(f, capsys)
    assert code == 2
    assert "config error: environment YUQING_SENTIMENT_MODEL: [sentiment] model: unknown sentiment model 'bogus'" in err
    assert str(f) not in err


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path) -> None:
    """`yuqing sentiment analyze --input - | head -1`: no BrokenPipeError traceback when the reader leaves."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env["YUQING_STORE_PATH"] = str(tmp_path / "yuqing.db")
    lines = tmp_path / "posts.txt"
    lines.write_text("中国电信宽带断网一整天了\n" * 3000, encoding="utf-8")  # far more output than a pipe holds
    with lines.open("rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "sentiment", "analyze", "--input", "-"],
                                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout.readline().startswith(b"{")
        proc.stdout.close()  # the reader leaves after one line
        _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err[-2000:]
    assert proc.returncode == 0
