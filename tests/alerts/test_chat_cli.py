"""Chat channels from the command line and the settings file: [channels.NAME] checked with the field named,
secrets only from the variables it names (masked in every output), `alerts subscribe --channel`,
`alerts test-channel` printing the platform's answer, and `config check`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.chatbot import ChatReceiver
from tests.alerts.chatkit import KEYS, robots
from yuqing.cli import main
from yuqing.config import ConfigError, load_settings


@pytest.fixture
def rx(tmp_path) -> Iterator[ChatReceiver]:
    with ChatReceiver(robots()) as receiver:
        yield receiver


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "yuqing.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "yuqing.db"}"\n' + body, encoding="utf-8")
    return path


def channels_toml(url: str) -> str:
    return (f'[channels.henan-wecom]\ntype = "wecom"\nbase_url = "{url}"\nkey_env = "T_WECOM_KEY"\n'
            f'[channels.ding]\ntype = "dingtalk"\nbase_url = "{url}"\nkey_env = "T_DING_KEY"\n'
            'secret_env = "T_DING_SECRET"\nmsg_type = "actionCard"\n'
            f'[channels.tickets]\ntype = "webhook"\nbase_url = "{url}/webhook/ticket"\nsecret_env = "T_WH_SECRET"\n'
            'rate_per_minute = 10\n')


ENV = {"T_WECOM_KEY": KEYS["wecom"][0], "T_DING_KEY": KEYS["dingtalk"][0], "T_DING_SECRET": KEYS["dingtalk"][1],
       "T_WH_SECRET": KEYS["webhook"][1]}


def test_channels_load_with_secrets_from_the_environment(tmp_path, rx) -> None:
    s = load_settings(write(tmp_path, channels_toml(rx.url)), env=ENV)
    assert [c.name for c in s.channels] == ["henan-wecom", "ding", "tickets"]
    assert s.channel("ding").secret == KEYS["dingtalk"][1] and s.channel("ding").msg_type == "actionCard"
    assert s.channel("tickets").rate_per_minute == 10
    assert KEYS["dingtalk"][1] not in repr(s)


@pytest.mark.parametrize(("body", "message"), [
    ('[channels.x]\ntype = "slack"\nkey_env = "K"\n', "[channels.x] type: unknown channel type 'slack'"),
    ('[channels.x]\ntype = "wecom"\n', "[channels.x] key_env: required"),
    ('[channels.x]\ntype = "wecom"\nkey = "abc"\n', "[channels.x] key: secrets are read from the environment only"),
    ('[channels.x]\ntype = "dingtalk"\nkey_env = "K"\nsecret = "s"\n', "secrets are read from the environment only"),
    ('[channels.x]\ntype = "webhook"\nsecret_env = "S"\n', "[channels.x] base_url: required for a webhook"),
    ('[channels.x]\ntype = "webhook"\nbase_url = "http://h/x"\n', "[channels.x] secret_env: required"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "K"\nbase_url = "ftp://h"\n', "base_url: 'ftp://h' is not an http(s) URL"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "K"\nbase_url = "http://h/?key=abc"\n', "put no credentials or query"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "my key"\n', "key_env: 'my key' is not an environment variable name"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "K"\nrate_per_minute = -1\n', "rate_per_minute: must be 0..10000"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "K"\nmsg_type = "actionCard"\n', "msg_type"),
    ('[channels.x]\ntype = "wecom"\nkey_env = "K"\ncolour = "red"\n', "[channels.x]: unknown field 'colour'"),
    ('[channels.email]\ntype = "wecom"\nkey_env = "K"\n', "[channels.email]: a channel name"),
    ('[channels.Bad]\ntype = "wecom"\nkey_env = "K"\n', "[channels.Bad]: a channel name"),
    ('[channels]\nx = 1\n', "[channels.x]: expected a table"),
])
def test_bad_channel_settings_name_the_file_and_field(tmp_path, body, message) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load_settings(path, env={})
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_config_check_masks_secrets_and_names_an_unset_variable(tmp_path, rx, monkeypatch, capsys) -> None:
    path = write(tmp_path, channels_toml(rx.url))
    monkeypatch.chdir(tmp_path)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    assert main(["--config", str(path), "config", "check"]) == 0
    out = capsys.readouterr()
    shown = json.loads(out.out)["channels"]
    assert shown["ding"]["secret"] == "***" and shown["ding"]["key"] == "***" and shown["ding"]["key_env"] == "T_DING_KEY"
    for secret in ENV.values():
        assert secret not in out.out + out.err
    monkeypatch.delenv("T_DING_SECRET")
    assert main(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert "[channels.ding] secret_env: environment variable T_DING_SECRET is not set" in err


def test_subscribe_a_channel_and_send_a_test_message(tmp_path, rx, monkeypatch, capsys) -> None:
    path = write(tmp_path, channels_toml(rx.url))
    monkeypatch.chdir(tmp_path)
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    cfg = ["--config", str(path)]
    assert main([*cfg, "alerts", "subscribe", "--channel", "henan-wecom", "--regions", "河南", "--touchpoints", "宽带",
                 "--min-severity", "orange"]) == 0
    assert "已订阅 #1 henan-wecom（群机器人渠道）：最低橙色，即时，触点=宽带，地区=河南" in capsys.readouterr().out
    assert main([*cfg, "alerts", "subscribe", "--channel", "nowhere"]) == 2
    assert "未知渠道 nowhere（可选：email、henan-wecom、ding、tickets" in capsys.readouterr().err
    assert main([*cfg, "alerts", "subscribe", "a@example.test", "--channel", "ding"]) == 2
    assert main([*cfg, "alerts", "subscribe"]) == 2
    assert main([*cfg, "alerts", "subscribe", "--channel", "ding", "--mentions", "13800138000,12345"]) == 2
    assert "@提醒对象无效：12345（手机号应为 1 开头的 11 位数字；all 表示 @所有人）" in capsys.readouterr().err
    assert main([*cfg, "alerts", "subscribe", "--channel", "henan-wecom", "--mentions", "13800138000，all",
                 "--mention-min-severity", "red"]) == 0
    assert "#1 henan-wecom（群机器人渠道）：最低橙色，即时，触点=宽带，地区=河南，@13800138000、所有人（红色及以上）" in \
        capsys.readouterr().out
    capsys.readouterr()

    for name, answer in (("henan-wecom", "HTTP 200 code 0: ok"), ("ding", "HTTP 200 code 0: ok"),
                         ("tickets", "HTTP 200: {\"ok\": true}")):
        assert main([*cfg, "alerts", "test-channel", name]) == 0
        assert f"平台应答 platform answer: {answer}" in capsys.readouterr().out
    assert [r["platform"] for r in rx.received] == ["wecom", "dingtalk", "webhook"]
    assert rx.received[1]["body"]["msgtype"] == "actionCard" and "测试消息" in rx.received[1]["title"]
    assert rx.received[0]["mentions"] == []  # a yellow test: the subscription @s from red
    assert main([*cfg, "alerts", "test-channel", "henan-wecom", "--severity", "red"]) == 0
    assert "已送达 企业微信群机器人 henan-wecom" in (out := capsys.readouterr().out) and "@13800138000、所有人" in out
    red = rx.received[-1]
    assert red["body"]["msgtype"] == "text" and red["mentions"] == ["13800138000", "all"], red
    assert "【红色预警·测试】" in red["body"]["text"]["content"] and "?alert=0" not in red["body"]["text"]["content"]

    monkeypatch.setenv("T_DING_SECRET", "SECnot-the-secret")
    assert main([*cfg, "alerts", "test-channel", "ding"]) == 1
    out = capsys.readouterr()
    assert "code 310000: sign not match" in out.out and "不可重试" in out.err
    assert "SECnot-the-secret" not in out.out + out.err and KEYS["dingtalk"][0] not in out.out + out.err
    assert main([*cfg, "alerts", "test-channel", "nope"]) == 2
    assert main([*cfg, "alerts", "outbox"]) == 0
    listing = capsys.readouterr().out
    assert "[ding]" in listing and "已放弃（错误不可重试" in listing
    assert main([*cfg, "alerts", "channels"]) == 0
    listing = capsys.readouterr().out
    assert "ding：钉钉自定义机器人" in listing and "签名密钥 $T_DING_SECRET（已设置）" in listing
    assert "SECnot-the-secret" not in listing
