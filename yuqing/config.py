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

from yuqing.vocab import PLATFORMS

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
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    sentiment: SentimentSettings = field(default_factory=SentimentSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
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
            if sec not in fields or sec == "source_file" or not key:
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
    settings = Settings(**built, **top, source_file=source)
    _validate(settings, origins)
    return settings


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as a dict, secrets replaced by '***' (or '' when unset)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
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
