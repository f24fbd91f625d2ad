"""Scenario files (YAML): scripted posts, generated chatter, a compressed clock and fault rates.

Offsets (`at`) are scenario time relative to the start: "-3h" is history, "20m" arrives 20
scenario minutes after start, i.e. 20/speed real minutes later. A post is published (and
visible) at its real arrival time, so alert windows see the burst as it happens.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from demo.hotlists import HotScript, load_hotlists
from demo.model import DemoPost
from yuqing.vocab import PLATFORMS

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
FAULT_KINDS = ("http_418", "http_432", "http_403", "http_500", "slow", "truncated", "layout")
_DURATION = re.compile(r"^(-)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ScenarioError(Exception):
    """The scenario file is wrong; the message names the file and the entry."""


def parse_offset(value: Any, where: str) -> timedelta:
    """'-3h', '20m', '1h30m', '45s', '2d' or a number of seconds -> timedelta."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value).strip())
    if not match or not any(match.groups()[1:]):
        raise ScenarioError(f"{where}: bad offset {value!r} (use e.g. -3h, 20m, 1h30m, 45s)")
    sign, d, h, m, s = match.groups()
    delta = timedelta(days=int(d or 0), hours=int(h or 0), minutes=int(m or 0), seconds=int(s or 0))
    return -delta if sign else delta


@dataclass(frozen=True)
class Faults:
    """Per-response fault probabilities; each URL is faulted at most `max_per_url` times so retries succeed."""

    rates: dict[str, float] = field(default_factory=dict)
    slow_seconds: float = 1.5
    max_per_url: int = 2
    seed: int = 0


@dataclass(frozen=True)
class ScriptedPost:
    """A post of the file, still with its scenario offset."""

    offset: timedelta
    post: DemoPost  # `at` is a placeholder until the clock places it


@dataclass(frozen=True)
class Scenario:
    name: str
    speed: float
    posts: tuple[ScriptedPost, ...]
    faults: Faults = field(default_factory=Faults)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-platform renderer options
    duration: timedelta = timedelta(hours=1)
    hot: HotScript = field(default_factory=HotScript)  # the hot lists (demo.hotlists)

    def placed(self, start: datetime) -> list[DemoPost]:
        """Every post with its real publication time for a run started at `start`, oldest first."""
        out = [_replace_at(sp.post, self.arrival(start, sp.offset)) for sp in self.posts]
        return sorted(out, key=lambda p: p.at)

    def arrival(self, start: datetime, offset: timedelta) -> datetime:
        """History keeps real spacing; the future is compressed by `speed`."""
        if offset <= timedelta(0):
            return start + offset
        return start + offset / self.speed

    def elapsed(self, start: datetime, now: datetime) -> timedelta:
        """Scenario time since the start at real time `now` (the inverse of `arrival` for the future)."""
        return (now - start) * self.speed if now > start else now - start

    def with_faults(self, faults: Faults) -> Scenario:
        import dataclasses

        return dataclasses.replace(self, faults=faults)


def _replace_at(post: DemoPost, at: datetime) -> DemoPost:
    import dataclasses

    return dataclasses.replace(post, at=at)


_EPOCH_PLACEHOLDER = datetime(2000, 1, 1).astimezone()


def _post_from(entry: dict[str, Any], where: str, defaults: dict[str, Any]) -> ScriptedPost:
    data = {**defaults, **entry}
    platform = data.get("platform", "weibo")
    if platform not in PLATFORMS:
        raise ScenarioError(f"{where}: unknown platform {platform!r}")
    for key in ("id", "text", "at"):
        if key not in data:
            raise ScenarioError(f"{where}: missing {key!r}")
    user = data.get("user") or {}
    post = DemoPost(
        platform=platform,
        post_id=str(data["id"]),
        text=str(data["text"]).strip(),
        at=_EPOCH_PLACEHOLDER,
        author_id=str(user.get("id", "")),
        author_name=str(user.get("name", "")),
        verified=bool(user.get("verified", False)),
        followers=int(user.get("followers", 0)),
        reposts=int(data.get("reposts", 0)),
        comments=int(data.get("comments", 0)),
        likes=int(data.get("likes", 0)),
        region=str(data.get("region", "")),
        kind=str(data.get("kind", "post")),
        title=str(data.get("title", "")),
        parent_id=str(data.get("parent_id", "")),
        long_text=str(data.get("long_text", "")).strip(),
        extra=dict(data.get("extra") or {}),
        tags=tuple(data.get("tags") or ()),
    )
    return ScriptedPost(parse_offset(data["at"], where), post)


def _generated(spec: dict[str, Any], where: str, rng: random.Random) -> list[ScriptedPost]:
    """Ordinary chatter: templates x cities x users at random times in [start, end); `kind`, `extra` (e.g. a Tieba
    bar) and `titled: true` (the text's start as title, for threads and videos) apply to every generated post."""
    count = int(spec.get("count", 0))
    start = parse_offset(spec.get("from", "-24h"), where)
    end = parse_offset(spec.get("to", "0s"), where)
    templates = spec.get("templates") or []
    cities = spec.get("cities") or [{"city": "北京", "region": "北京"}]
    users = spec.get("users") or []
    if count and (not templates or not users):
        raise ScenarioError(f"{where}: generated chatter needs templates and users")
    base_id = int(spec.get("first_id", 4_950_000_000_000_000))
    out = []
    span = (end - start).total_seconds()
    for i in range(count):
        tpl = templates[rng.randrange(len(templates))]
        city = cities[rng.randrange(len(cities))]
        user = users[rng.randrange(len(users))]
        text = str(tpl["text"] if isinstance(tpl, dict) else tpl).format(city=city["city"])
        offset = start + timedelta(seconds=rng.random() * span)
        entry = {
            "platform": spec.get("platform", "weibo"),
            "kind": spec.get("kind", "post"),
            "extra": dict(spec.get("extra") or {}),
            "title": text[:24] if spec.get("titled") else "",  # threads and videos need a title
            "id": str(base_id + i * 7919 + rng.randrange(7000)),
            "text": text,
            "at": offset.total_seconds(),
            "user": {"id": user["id"], "name": user["name"], "verified": user.get("verified", False),
                     "followers": user.get("followers", rng.randrange(20, 3000))},
            "region": city.get("region", city["city"]),
            "reposts": rng.randrange(0, 12),
            "comments": rng.randrange(0, 20),
            "likes": rng.randrange(0, 60),
            "tags": ["chatter"],
        }
        out.append(_post_from(entry, f"{where}[{i}]", {}))
    return out


def _extended(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """`extends: default` takes every top-level key of that scenario that this file does not set."""
    base_name = raw.pop("extends", None)
    if not base_name:
        return raw
    base_path = path.parent / f"{base_name}.yaml"
    try:
        base = yaml.safe_load(base_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: extends {base_name!r}: cannot read {base_path}: {exc}") from None
    return {**_extended(base, base_path), **raw}


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario YAML file (default: demo/scenarios/default.yaml); errors name the file and entry."""
    p = Path(path) if path else SCENARIOS / "default.yaml"
    if not p.exists() and not p.suffix:
        p = SCENARIOS / f"{p}.yaml"
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{p}: cannot read scenario: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{p}: expected a mapping at top level")
    raw = _extended(raw, p)
    speed = float(raw.get("speed", 1))
    if speed <= 0:
        raise ScenarioError(f"{p}: speed must be positive")
    rng = random.Random(int(raw.get("seed", 0)))
    posts: list[ScriptedPost] = []
    for i, spec in enumerate(raw.get("chatter") or []):
        posts.extend(_generated(spec, f"{p}: chatter[{i}]", rng))
    defaults = raw.get("defaults") or {}
    for i, entry in enumerate(raw.get("posts") or []):
        posts.append(_post_from(entry, f"{p}: posts[{i}]", defaults))
    seen: set[tuple[str, str]] = set()
    for sp in posts:
        key = (sp.post.platform, sp.post.post_id)
        if key in seen:
            raise ScenarioError(f"{p}: duplicate post id {key}")
        seen.add(key)
    f = raw.get("faults") or {}
    rates = {k: float(v) for k, v in (f.get("rates") or {}).items()}
    unknown = set(rates) - set(FAULT_KINDS)
    if unknown:
        raise ScenarioError(f"{p}: faults: unknown kinds {sorted(unknown)} (known: {', '.join(FAULT_KINDS)})")
    faults = Faults(rates, float(f.get("slow_seconds", 1.5)), int(f.get("max_per_url", 2)), int(f.get("seed", 0)))
    duration = parse_offset(raw.get("duration", "1h"), f"{p}: duration")
    try:
        hot = load_hotlists(raw.get("hotlists"), str(p), parse_offset)
    except (ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(str(exc)) from None
    return Scenario(str(raw.get("name", p.stem)), speed, tuple(posts), faults, dict(raw.get("platforms") or {}),
                    duration, hot)
