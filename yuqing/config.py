"""Settings: one TOML file plus YUQING_* environment variables, validated once at start-up.

Every field can be set in the file under its section (`[smtp] host = "..."`) or in
the environment as YUQING_<SECTION>_<FIELD> (`YUQING_SMTP_HOST`). Secrets are read
from the environment only; a secret found in the file is an error. Errors name the
file (or variable) and the field.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from yuqing.vocab import CHANNEL_TYPES, PLATFORMS

DEFAULT_FILE = "yuqing.toml"
SECRET_FIELDS = {("smtp", "password"), ("store", "es_api_key"), ("crawl", "weibo_cookie"),
                 ("crawl", "zhihu_cookie"), ("crawl", "tieba_cookie"), ("crawl", "bilibili_cookie"),
                 ("crawl", "proxy"), ("dashboard", "cookie_secret"), ("database", "password")}
DATABASE_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
                    "postgresql+psycopg": "postgresql+psycopg"}
ENV_ALIASES = {"YUQING_ES_URL": ("store", "es_url")}


class ConfigError(Exception):
    """A setting is wrong; the message names its file or variable and its field."""


@dataclass(frozen=True)
class StoreSettings:
    backend: str = "sqlite"  # sqlite | elasticsearch (chosen automatically when es_url is set)
    path: str = "var/yuqing.db"
    es_url: str = ""
    es_api_key: str = ""
    es_prefix: str = "yuqing"
    es_shards: int = 1  # primary shards of each monthly posts index (docs/elasticsearch.md: sizing)
    es_replicas: int = 0  # 0 on a single node; 1 or more on a cluster
    spool_dir: str = "var/spool"
    busy_timeout_seconds: float = 30.0  # how long a SQLite write waits for another process's lock


@dataclass(frozen=True)
class DatabaseSettings:
    """The OpsDB: "" = the SQLite file of [store] path; postgresql://user@host:5432/yuqing when several processes
    or hosts share the work. A password goes in YUQING_DATABASE_PASSWORD (or in YUQING_DATABASE_URL), never in
    the settings file."""

    url: str = ""
    password: str = ""


@dataclass(frozen=True)
class CrawlSettings:
    interval_seconds: int = 600
    timeout_seconds: int = 300
    sources: tuple[str, ...] = PLATFORMS
    watchlist: str = "crawlers/watchlist.toml"
    weibo_base_url: str = "https://m.weibo.cn"
    zhihu_base_url: str = "https://www.zhihu.com"
    zhidao_base_url: str = "https://zhidao.baidu.com"
    heimao_base_url: str = "https://tousu.sina.com.cn"
    tieba_base_url: str = "https://tieba.baidu.com"
    bilibili_base_url: str = "https://api.bilibili.com"
    hotlist_base_url: str = ""  # "" = each hot board on its own site; set, every board is read from this host
    hotlist_interval_seconds: int = 0  # seconds between hot-list polls; 0 = the watchlist's [hotlists] interval
    max_pages: int = 10
    obey_robots: bool = True
    autothrottle: bool = True
    download_delay: float = 2.0
    concurrent_per_domain: int = 2
    weibo_cookie: str = ""
    zhihu_cookie: str = ""
    tieba_cookie: str = ""
    bilibili_cookie: str = ""
    proxy: str = ""
    jobstore: str = "var/scheduler.db"
    zhihu_signer: str = ""  # "module:function" signing Zhihu requests; "" = the shipped crawlers.zhihu_sign:sign


@dataclass(frozen=True)
class SentimentSettings:
    model: str = "default"  # a name from sentiment.models registry; "default" = best measured
    batch_size: int = 256
    touchpoints: str = "sentiment/touchpoints.toml"


@dataclass(frozen=True)
class AlertSettings:
    interval_seconds: int = 60
    rules: str = "alerts/rules.yaml"
    realert_minutes: int = 60
    quiet_hours: str = ""  # "23:00-07:00" Asia/Shanghai; low severity waits for the digest


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = "yuqing@localhost"
    timeout_seconds: float = 10.0
    max_attempts: int = 20


@dataclass(frozen=True)
class DashboardSettings:
    port: int = 8501
    base_url: str = "http://127.0.0.1:8501"
    cookie_secret: str = ""
    reply_due_minutes: int = 60  # a flagged post unanswered longer is overdue
    our_operator: str = ""  # the operator this deployment serves; the other watched operators are competitors
    login_max_failures: int = 5  # failed logins of one username within login_lock_minutes that lock it
    login_lock_minutes: int = 15  # the counting window and how long a locked username stays locked


@dataclass(frozen=True)
class ChannelSettings:
    """One chat channel, `[channels.NAME]`: a WeCom/DingTalk/Feishu group robot or a signed webhook. The robot
    key (WeCom key, DingTalk access_token, Feishu hook token) and the signing secret are read from the environment
    variables named by key_env and secret_env, never from the file; `key` and `secret` hold what they held at
    start-up ("" when unset, which `yuqing config check` reports). 0 and "" mean the platform's documented value
    (alerts.channels): its address, its rate limit per minute and its size limit in bytes."""

    name: str
    type: str
    base_url: str = ""  # the platform's API root (tests and the demo: http://127.0.0.1:PORT); webhook: the full URL
    key_env: str = ""
    secret_env: str = ""
    msg_type: str = ""  # dingtalk: markdown (default) or actionCard
    rate_per_minute: int = 0
    max_bytes: int = 0
    timeout_seconds: float = 10.0
    give_up_minutes: int = 60  # a message not accepted within this time after it was queued is given up
    key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)


CHANNEL_FILE_FIELDS = ("type", "base_url", "key_env", "secret_env", "msg_type", "rate_per_minute", "max_bytes",
                       "timeout_seconds", "give_up_minutes")
CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NEEDS_KEY = ("wecom", "dingtalk", "feishu")  # the robot's address holds a key
NEEDS_SECRET = ("webhook",)  # DingTalk and Feishu sign only when the robot's security setting asks for it


@dataclass(frozen=True)
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    sentiment: SentimentSettings = field(default_factory=SentimentSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    channels: tuple[ChannelSettings, ...] = ()  # [channels.NAME] tables, in file order
    timezone: str = "Asia/Shanghai"
    source_file: str = ""  # where the settings came from ("" = defaults and environment)

    @property
    def store_backend(self) -> str:
        """The post index: elasticsearch when es_url is set, else sqlite."""
        return "elasticsearch" if self.store.es_url else self.store.backend

    @property
    def database_url(self) -> str:
        """The OpsDB as a SQLAlchemy URL: [database] url with the psycopg driver and the password from the
        environment, or the SQLite file of [store] path."""
        if not self.database.url:
            return f"sqlite:///{self.store.path}"
        scheme, rest = self.database.url.split("://", 1)
        url = f"{DATABASE_SCHEMES[scheme.lower()]}://{rest}"
        if self.database.password and scheme.lower() != "sqlite":
            parts = urlsplit(url)
            if parts.password is None and parts.username:
                netloc = f"{parts.username}:{quote(self.database.password, safe='')}@{parts.netloc.split('@', 1)[1]}"
                url = urlunsplit(parts._replace(netloc=netloc))
        return url

    def channel(self, name: str) -> ChannelSettings | None:
        return next((c for c in self.channels if c.name == name), None)

    def replace(self, **sections: Mapping[str, Any]) -> Settings:
        """A copy with some fields of some sections replaced: replace(crawl={"max_pages": 2})."""
        changes = {name: dataclasses.replace(getattr(self, name), **values) for name, values in sections.items()}
        return dataclasses.replace(self, **changes)


def _coerce(value: Any, typ: Any, where: str) -> Any:
    """The value as the field's type; anything else (blank, NaN, infinite, fractional counts, NUL bytes, a
    wrong type) is a ConfigError naming `where`, never a silent default."""
    typ = str(typ)
    try:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL byte")
        if typ == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
                return True
            if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if typ == "int":
            return _integer(value)
        if typ == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(f"expected a number, got {type(value).__name__}")
            if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
                raise ValueError(f"expected a number, got {value!r}")
            number = float(value.strip() if isinstance(value, str) else value)
            if not math.isfinite(number):
                raise ValueError(f"must be a finite number, got {value!r}")
            return number
        if typ == "str":
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {type(value).__name__}")
            return value
        if typ.startswith("tuple"):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of strings")
            return tuple(v.strip() for v in value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    raise ConfigError(f"{where}: unsupported type {typ}")


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _integer(value: Any) -> int:
    """A whole number from an int, an integral finite float (TOML 3.0) or its text; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(text)
    raise ValueError(f"expected an integer, got {type(value).__name__}")


# (section, field, least allowed value): counts, sizes, intervals and timeouts below it make no sense
MINIMUMS: tuple[tuple[str, str, float], ...] = (
    ("store", "es_shards", 1), ("store", "es_replicas", 0), ("store", "busy_timeout_seconds", 0),
    ("crawl", "interval_seconds", 1), ("crawl", "timeout_seconds", 1), ("crawl", "max_pages", 1),
    ("crawl", "download_delay", 0), ("crawl", "concurrent_per_domain", 1), ("crawl", "hotlist_interval_seconds", 0),
    ("sentiment", "batch_size", 1),
    ("alerts", "interval_seconds", 1), ("alerts", "realert_minutes", 0),
    ("smtp", "timeout_seconds", 0.1), ("smtp", "max_attempts", 1),
    ("dashboard", "reply_due_minutes", 1), ("dashboard", "login_max_failures", 1),
    ("dashboard", "login_lock_minutes", 1),
)
# (section, field, greatest allowed value): beyond these a value is a typo (or 1e309), not a choice
MAXIMUMS: tuple[tuple[str, str, float], ...] = (
    ("store", "es_shards", 1024), ("store", "es_replicas", 16), ("store", "busy_timeout_seconds", 3600),
    ("crawl", "interval_seconds", 7 * 86400), ("crawl", "timeout_seconds", 86400), ("crawl", "max_pages", 10_000),
    ("crawl", "download_delay", 3600), ("crawl", "concurrent_per_domain", 64),
    ("crawl", "hotlist_interval_seconds", 86400),
    ("sentiment", "batch_size", 100_000),
    ("alerts", "interval_seconds", 86400), ("alerts", "realert_minutes", 30 * 1440),
    ("smtp", "timeout_seconds", 600), ("smtp", "max_attempts", 1000),
    ("dashboard", "reply_due_minutes", 30 * 1440), ("dashboard", "login_max_failures", 1000),
    ("dashboard", "login_lock_minutes", 7 * 1440),
)
PORTS = (("smtp", "port"), ("dashboard", "port"))
# Text settings that cannot be blank: a blank one (an unset ${VAR} in a unit file) would silently mean something
# else, e.g. an empty store path is SQLite's throwaway temporary database.
NOT_BLANK: tuple[tuple[str, str], ...] = (
    ("store", "backend"), ("store", "path"), ("store", "es_prefix"), ("store", "spool_dir"),
    ("crawl", "watchlist"), ("crawl", "jobstore"), ("crawl", "weibo_base_url"), ("crawl", "zhihu_base_url"),
    ("crawl", "zhidao_base_url"), ("crawl", "heimao_base_url"), ("crawl", "tieba_base_url"),
    ("crawl", "bilibili_base_url"), ("sentiment", "model"), ("sentiment", "touchpoints"),
    ("alerts", "rules"), ("smtp", "host"), ("smtp", "sender"), ("dashboard", "base_url"), ("", "timezone"),
)


def _validate(s: Settings, origins: Mapping[tuple[str, str], str] | None = None) -> None:
    """Raise ConfigError for the first bad value, naming where it came from: the environment variable or the file."""
    origins = origins or {}

    def bad(section: str, name: str, msg: str) -> ConfigError:
        where = f"[{section}] {name}" if section else name
        return ConfigError(f"{origins.get((section, name)) or s.source_file or 'settings'}: {where}: {msg}")

    for section, name in NOT_BLANK:
        value = getattr(getattr(s, section), name) if section else getattr(s, name)
        if not str(value).strip():
            raise bad(section, name, "must not be blank")
    if not s.crawl.sources:
        raise bad("crawl", "sources", "must name at least one source")
    if s.store.backend not in ("sqlite", "elasticsearch"):
        raise bad("store", "backend", "must be sqlite or elasticsearch")
    if s.store.backend == "elasticsearch" and not s.store.es_url:
        raise bad("store", "es_url", "required when backend is elasticsearch (set YUQING_ES_URL)")
    _validate_database(s, bad)
    for section, name, least in MINIMUMS:
        value = getattr(getattr(s, section), name)
        if value < least:
            raise bad(section, name, f"must be at least {least:g}, got {value!r}")
    for section, name, most in MAXIMUMS:
        value = getattr(getattr(s, section), name)
        if value > most:
            raise bad(section, name, f"must be at most {most:g}, got {value!r}")
    for section, name in PORTS:
        value = getattr(getattr(s, section), name)
        if not 0 < value < 65536:
            raise bad(section, name, f"must be 1..65535, got {value!r}")
    if s.crawl.zhihu_signer and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", s.crawl.zhihu_signer):
        raise bad("crawl", "zhihu_signer", f"{s.crawl.zhihu_signer!r} is not of the form module:function")
    if s.smtp.starttls and s.smtp.ssl:
        raise bad("smtp", "starttls", "choose starttls or ssl, not both")
    for src in s.crawl.sources:
        if src not in PLATFORMS:
            raise bad("crawl", "sources", f"unknown source {src!r} (known: {', '.join(PLATFORMS)})")
    if s.alerts.quiet_hours and not re.fullmatch(r"(?:[01]?\d|2[0-3]):[0-5]\d-(?:[01]?\d|2[0-3]):[0-5]\d",
                                                 s.alerts.quiet_hours.strip()):
        raise bad("alerts", "quiet_hours", f"expected HH:MM-HH:MM, got {s.alerts.quiet_hours!r}")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(s.timezone)
    except Exception:
        raise bad("", "timezone", f"unknown time zone {s.timezone!r}") from None


def database_problem(url: str) -> str:
    """Why a [database] url cannot be used ("" when it can): blank, malformed, or of a scheme yuqing does not
    support (sqlite:///path or postgresql://user@host:port/database)."""
    if not url.strip():
        return "is blank (leave it unset for the SQLite file of [store] path, or give postgresql://…)"
    if "://" not in url:
        return f"{mask_url(url)!r} is not a URL (sqlite:///var/yuqing.db or postgresql://user@host:5432/yuqing)"
    scheme = url.split("://", 1)[0].lower()
    if scheme not in DATABASE_SCHEMES:
        return (f"scheme {scheme!r} is not supported (sqlite or postgresql)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        return f"{mask_url(url)!r} is malformed: {exc}"
    if scheme == "sqlite":
        if parts.netloc or len(parts.path) < 2:
            return f"{url!r}: a SQLite URL names a file: sqlite:///relative/path.db or sqlite:////absolute/path.db"
    elif not parts.hostname or len(parts.path) < 2:
        return f"{mask_url(url)!r} needs a host and a database: postgresql://user@host:5432/yuqing"
    return ""


def mask_url(url: str) -> str:
    """A URL with its password replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _validate_database(s: Settings, bad: Any) -> None:
    problem = database_problem(s.database.url) if s.database.url else ""
    if problem:
        raise bad("database", "url", problem)


def _check_database_url(raw: dict[str, Any], from_env: bool, source: str) -> None:
    """[database] url as given: set but blank or malformed is an error naming where it was set; a password
    written into the settings file is a secret in the file."""
    where = "environment YUQING_DATABASE_URL" if from_env else f"{source or 'settings'}: [database] url"
    problem = database_problem(raw["url"])
    if problem:
        raise ConfigError(f"{where}: {problem}")
    if not from_env and urlsplit(raw["url"]).password:
        raise ConfigError(f"{where}: secrets are read from the environment only (put the password in "
                          "YUQING_DATABASE_PASSWORD, or the whole URL in YUQING_DATABASE_URL)")


def load_settings(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (explicit path, else $YUQING_CONFIG, else ./yuqing.toml if present) and the environment."""
    env = os.environ if env is None else env
    chosen = path or env.get("YUQING_CONFIG") or (DEFAULT_FILE if Path(DEFAULT_FILE).exists() else "")
    raw: dict[str, Any] = {}
    if chosen:
        p = Path(chosen)
        if not p.exists():
            raise ConfigError(f"{chosen}: file not found")
        try:
            raw = tomllib.loads(p.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{chosen}: not a settings file: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise ConfigError(f"{chosen}: cannot read the settings file: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            raise ConfigError(f"{chosen}: not valid TOML: {exc}") from None
    source = str(chosen)
    sections: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    origins: dict[tuple[str, str], str] = {}  # (section, field) -> the environment variable that set it
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    channels = _channels(raw.pop("channels", {}), env, source)
    for name, value in raw.items():
        if name in ("source_file",) or name not in fields:
            raise ConfigError(f"{source}: unknown setting {name!r}")
        if fields[name].default_factory is dataclasses.MISSING and isinstance(value, dict):
            raise ConfigError(f"{source}: {name}: expected a value, got a table")
        if isinstance(value, dict):
            section_type = fields[name].default_factory  # type: ignore[misc]
            known = {f.name: f for f in dataclasses.fields(section_type)}
            for key, v in value.items():
                if key not in known:
                    raise ConfigError(f"{source}: [{name}] unknown field {key!r}")
                if (name, key) in SECRET_FIELDS and v:
                    raise ConfigError(
                        f"{source}: [{name}] {key}: secrets are read from the environment only "
                        f"(set YUQING_{name.upper()}_{key.upper()})"
                    )
                sections.setdefault(name, {})[key] = _coerce(v, known[key].type, f"{source}: [{name}] {key}")
        elif fields[name].default_factory is not dataclasses.MISSING:
            raise ConfigError(f"{source}: [{name}]: expected a table of settings, got {type(value).__name__}")
        else:
            top[name] = _coerce(value, fields[name].type, f"{source}: {name}")
    # environment overrides the file
    for var, value in env.items():
        if not var.startswith("YUQING_") or var == "YUQING_CONFIG":
            continue
        if var in ENV_ALIASES:
            sec, key = ENV_ALIASES[var]
        else:
            rest = var[len("YUQING_"):].lower()
            sec, _, key = rest.partition("_")
            if sec not in fields or sec in ("source_file", "channels") or not key:
                if rest == "timezone":
                    top["timezone"] = _coerce(value, "str", f"environment {var}")
                    origins[("", "timezone")] = f"environment {var}"
                continue
        section_type = fields[sec].default_factory  # type: ignore[misc]
        known = {f.name: f for f in dataclasses.fields(section_type)}
        if key not in known:
            continue  # other YUQING_* variables (e.g. YUQING_DEMO_*) belong to other tools
        sections.setdefault(sec, {})[key] = _coerce(value, known[key].type, f"environment {var}")
        origins[(sec, key)] = f"environment {var}"
    if "url" in sections.get("database", {}):
        _check_database_url(sections["database"], "YUQING_DATABASE_URL" in env, source)
    built = {name: fields[name].default_factory(**vals) for name, vals in sections.items()}  # type: ignore[misc]
    settings = Settings(**built, **top, channels=channels, source_file=source)
    _validate(settings, origins)
    return settings


def _channels(raw: Any, env: Mapping[str, str], source: str) -> tuple[ChannelSettings, ...]:
    """The [channels.NAME] tables, checked, with their key and secret read from the variables they name."""
    src = source or "settings"
    if not isinstance(raw, dict):
        raise ConfigError(f"{src}: [channels]: expected tables [channels.NAME], got {type(raw).__name__}")
    types = {f.name: f.type for f in dataclasses.fields(ChannelSettings)}
    out = []
    for name, table in raw.items():
        where = f"{src}: [channels.{name}]"
        if not CHANNEL_NAME.fullmatch(name) or name == "email":
            raise ConfigError(f"{where}: a channel name is 1-40 of a-z 0-9 _ - (and not \"email\", the mail channel)")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table of settings, got {type(table).__name__}")
        values: dict[str, Any] = {}
        for key, v in table.items():
            if key in ("key", "secret", "token", "access_token", "password"):
                raise ConfigError(f"{where} {key}: secrets are read from the environment only (name the variable "
                                  f"in {'secret_env' if key in ('secret', 'password') else 'key_env'})")
            if key not in CHANNEL_FILE_FIELDS:
                raise ConfigError(f"{where}: unknown field {key!r} (known: {', '.join(CHANNEL_FILE_FIELDS)})")
            values[key] = _coerce(v, types[key], f"{where} {key}")
        channel = ChannelSettings(name=name, **values)
        problem = channel_problem(channel)
        if problem:
            raise ConfigError(f"{where} {problem}")
        out.append(dataclasses.replace(channel, key=env.get(channel.key_env, "") if channel.key_env else "",
                                       secret=env.get(channel.secret_env, "") if channel.secret_env else ""))
    return tuple(out)


def channel_problem(c: ChannelSettings) -> str:
    """What is wrong with a channel's settings, starting with the field's name ("" when nothing is)."""
    if c.type not in CHANNEL_TYPES:
        return f"type: unknown channel type {c.type!r} (known: {', '.join(CHANNEL_TYPES)})"
    for name in ("key_env", "secret_env"):
        value = getattr(c, name)
        if value and not ENV_NAME.fullmatch(value):
            return f"{name}: {value!r} is not an environment variable name (e.g. YUQING_WECOM_HENAN_KEY)"
    if c.type in NEEDS_KEY and not c.key_env:
        return "key_env: required: the environment variable holding the robot's key"
    if c.type in NEEDS_SECRET and not c.secret_env:
        return "secret_env: required: the environment variable holding the signing secret"
    if c.type == "webhook" and not c.base_url:
        return "base_url: required for a webhook: the URL messages are POSTed to"
    if c.base_url:
        parts = urlsplit(c.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"base_url: {c.base_url!r} is not an http(s) URL"
        if parts.password or parts.query:
            return "base_url: put no credentials or query in the URL (the key goes in the variable named by key_env)"
    if c.msg_type and (c.type != "dingtalk" or c.msg_type not in ("markdown", "actionCard")):
        return f"msg_type: {c.msg_type!r}: only a dingtalk channel chooses, markdown or actionCard"
    for name, least, most in (("rate_per_minute", 0, 10_000), ("max_bytes", 0, 10_000_000),
                              ("timeout_seconds", 0.1, 600), ("give_up_minutes", 1, 7 * 1440)):
        value = getattr(c, name)
        if not least <= value <= most:
            return f"{name}: must be {least:g}..{most:g}, got {value!r}"
    return ""


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as a dict, secrets replaced by '***' (or '' when unset)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "channels":
            out["channels"] = {c.name: {**{k: getattr(c, k) for k in CHANNEL_FILE_FIELDS},
                                        "key": ("***" if c.key else "(unset)") if c.key_env else "",
                                        "secret": ("***" if c.secret else "(unset)") if c.secret_env else ""}
                               for c in value}
        elif dataclasses.is_dataclass(value):
            sec = dataclasses.asdict(value)
            for key in sec:
                if (f.name, key) in SECRET_FIELDS and sec[key]:
                    sec[key] = "***"
            if f.name == "store" and sec.get("es_url") and "@" in sec["es_url"]:
                scheme, _, rest = sec["es_url"].partition("://")
                sec["es_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
            if f.name == "database":
                sec["url"] = mask_url(sec["url"]) if sec["url"] else f"(the SQLite file of [store] path: "\
                    f"sqlite:///{settings.store.path})"
            out[f.name] = sec
        else:
            out[f.name] = value
    return out
