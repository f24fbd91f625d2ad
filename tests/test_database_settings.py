"""[database] url / YUQING_DATABASE_URL: the OpsDB's place. Unset means the SQLite file of [store] path; a URL
that is blank, malformed or of another scheme is a config error naming the field (exit 2); a password belongs in
the environment; `config check` names a PostgreSQL server it cannot reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.config import ConfigError, load_settings


def test_unset_is_the_sqlite_file_of_the_store() -> None:
    s = load_settings(env={"YUQING_STORE_PATH": "var/x/yuqing.db"})
    assert s.database_url == "sqlite:///var/x/yuqing.db"
    assert load_settings(env={}).database_url == "sqlite:///var/yuqing.db"


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://yuqing@db.internal:5432/yuqing", "postgresql+psycopg://yuqing@db.internal:5432/yuqing"),
    ("postgres://yuqing@db/yuqing", "postgresql+psycopg://yuqing@db/yuqing"),
    ("postgresql+psycopg://yuqing:s3cret@db/yuqing", "postgresql+psycopg://yuqing:s3cret@db/yuqing"),
    ("sqlite:////srv/yuqing/ops.db", "sqlite:////srv/yuqing/ops.db"),
])
def test_urls_become_sqlalchemy_urls(url: str, expected: str) -> None:
    assert load_settings(env={"YUQING_DATABASE_URL": url}).database_url == expected


def test_the_password_comes_from_the_environment() -> None:
    s = load_settings(env={"YUQING_DATABASE_URL": "postgresql://yuqing@db/yuqing", "YUQING_DATABASE_PASSWORD": "p@ss/w"})
    assert s.database_url == "postgresql+psycopg://yuqing:p%40ss%2Fw@db/yuqing"


@pytest.mark.parametrize(("url", "message"), [
    ("", "is blank"), ("   ", "is blank"), ("ftp://db/yuqing", "scheme 'ftp' is not supported"),
    ("mysql://u@db/yuqing", "scheme 'mysql' is not supported"), ("yuqing.db", "is not a URL"),
    ("postgresql://db", "needs a host and a database"), ("postgresql://u@db:99999/yuqing", "is malformed"),
    ("sqlite://", "a SQLite URL names a file"),
])
def test_bad_urls_are_config_errors_naming_the_variable(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"YUQING_DATABASE_URL": url})
    assert str(err.value).startswith("environment YUQING_DATABASE_URL: ") and message in str(err.value)


def test_bad_urls_in_the_file_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "y.toml"
    path.write_text('[database]\nurl = "oracle://db/x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"y\.toml: \[database\] url: scheme 'oracle' is not supported"):
        load_settings(path, env={})
    path.write_text('[database]\nurl = "postgresql://u:secret@db/x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="secrets are read from the environment only") as err:
        load_settings(path, env={})
    assert "secret" not in str(err.value).replace("secrets", "")  # the password itself is not echoed
    path.write_text('[database]\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="YUQING_DATABASE_PASSWORD"):
        load_settings(path, env={})


def test_the_cli_exits_2_naming_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_DATABASE_URL", "redis://cache/0")
    assert main(["alerts", "list"]) == 2
    assert "YUQING_DATABASE_URL" in capsys.readouterr().err


def test_config_check_names_an_unreachable_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], free_port: int) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_DATABASE_URL", f"postgresql://yuqing@127.0.0.1:{free_port}/yuqing")
    monkeypatch.setenv("YUQING_DATABASE_PASSWORD", "not-shown")
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert "environment YUQING_DATABASE_URL: [database] url: cannot reach the OpsDB at " \
           f"postgresql://yuqing@127.0.0.1:{free_port}/yuqing" in err
    assert "not-shown" not in err


def test_config_check_passes_with_a_reachable_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], pg_url: str) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_DATABASE_URL", pg_url)
    assert main(["config", "check"]) == 0
    assert '"url": "postgresql://postgres@127.0.0.1' in capsys.readouterr().out
