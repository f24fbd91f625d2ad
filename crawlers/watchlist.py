"""The watchlist: which operators we watch, how people name them, and what each source searches.

Pure except `load_watchlist`, which reads the TOML file. `Watchlist.match(text)` returns the
canonical operator names a text is about; the rules are described in watchlist.toml.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yuqing.vocab import HOT_BOARDS

DEFAULT_PATH = Path(__file__).with_name("watchlist.toml")


class WatchlistError(ValueError):
    """The watchlist file is missing or malformed; the message names the file and the field."""


def normalise(text: str) -> str:
    """Half-width, lower case, no zero-width characters: 「１００８６」 and 「ＣＨＩＮＡ」 match their ASCII forms."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return text.replace("\u200b", "").replace("\ufeff", "")


@dataclass(frozen=True)
class Operator:
    name: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for attr in ("names", "aliases", "ambiguous", "exclude"):
            # longest first, so the blanking of exclusions does not leave fragments of longer phrases
            object.__setattr__(self, attr, tuple(sorted({normalise(w) for w in getattr(self, attr) if w},
                                                        key=lambda w: (-len(w), w))))


@dataclass(frozen=True)
class Source:
    name: str
    keywords: tuple[str, ...] = ()
    interval_seconds: int = 600
    enabled: bool = True
    bars: tuple[str, ...] = ()  # tieba: the bars (贴吧) whose thread lists are read, e.g. 中国电信, 郑州


@dataclass(frozen=True)
class HotLists:
    """[hotlists]: which boards are polled, how often, and the words that make an entry ours besides the
    operators (crawlers.hotmatch)."""

    boards: tuple[str, ...] = ()
    interval_seconds: int = 300
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Watchlist:
    operators: tuple[Operator, ...]
    context: tuple[str, ...] = ()
    window: int = 12
    sources: Mapping[str, Source] = field(default_factory=dict)
    hotlists: HotLists = field(default_factory=HotLists)

    def match(self, text: str) -> tuple[str, ...]:
        """Canonical names of the operators `text` is about, in watchlist order."""
        norm = normalise(text)
        return tuple(op.name for op in self.operators if self._mentions(op, norm))

    def _mentions(self, op: Operator, text: str) -> bool:
        if any(_contains(text, name) for name in op.names):
            return True
        if not any(word in text for word in op.aliases + op.ambiguous):
            return False  # nothing to disambiguate: skip the exclusion pass
        for phrase in op.exclude:
            text = text.replace(phrase, " " * len(phrase))
        if any(_contains(text, alias) for alias in op.aliases):
            return True
        for word in op.ambiguous:
            for found in re.finditer(re.escape(word), text):
                lo, hi = max(0, found.start() - self.window), found.end() + self.window
                around = text[lo:found.start()] + " " + text[found.end():hi]
                if any(ctx in around for ctx in self.context):
                    return True
        return False

    def keywords_for(self, source: str) -> tuple[str, ...]:
        """Search words for a source; the operators' canonical names when the source lists none."""
        src = self.sources.get(source)
        if src and src.keywords:
            return src.keywords
        return tuple(op.name for op in self.operators)

    def interval_for(self, source: str, default: int = 600) -> int:
        src = self.sources.get(source)
        return src.interval_seconds if src else default

    def enabled_sources(self) -> tuple[str, ...]:
        return tuple(name for name, src in self.sources.items() if src.enabled)

    def bars_for(self, source: str) -> tuple[str, ...]:
        src = self.sources.get(source)
        return src.bars if src else ()


def _contains(text: str, word: str) -> bool:
    """`word` in `text`; a hotline number (10086, 10000号) must not be part of a longer number."""
    if not word[:1].isdigit():
        return word in text
    return re.search(rf"(?<!\d){re.escape(word)}" + (r"(?!\d)" if word[-1:].isdigit() else ""), text) is not None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WatchlistError(f"{where} must be a list of strings")
    return tuple(value)


def build_watchlist(data: Mapping[str, Any], origin: str = "watchlist") -> Watchlist:
    """A Watchlist from parsed TOML data; errors name `origin` and the field."""
    ops_data = data.get("operators")
    if not isinstance(ops_data, Mapping) or not ops_data:
        raise WatchlistError(f"{origin}: [operators] is missing or empty")
    operators = []
    for name, spec in ops_data.items():
        if not isinstance(spec, Mapping):
            raise WatchlistError(f"{origin}: operators.{name} must be a table")
        unknown = set(spec) - {"names", "aliases", "ambiguous", "exclude"}
        if unknown:
            raise WatchlistError(f"{origin}: operators.{name} has unknown keys {sorted(unknown)}")
        where = f"{origin}: operators.{name}"
        operators.append(Operator(name=name, names=_strings(spec.get("names"), f"{where}.names") + (name,),
                                  aliases=_strings(spec.get("aliases"), f"{where}.aliases"),
                                  ambiguous=_strings(spec.get("ambiguous"), f"{where}.ambiguous"),
                                  exclude=_strings(spec.get("exclude"), f"{where}.exclude")))
    context = data.get("context") or {}
    window = context.get("window", 12)
    if not isinstance(window, int) or window < 0:
        raise WatchlistError(f"{origin}: context.window must be a non-negative integer")
    sources = {}
    for name, spec in (data.get("sources") or {}).items():
        where = f"{origin}: sources.{name}"
        interval = spec.get("interval_seconds", 600)
        if not isinstance(interval, int) or interval < 30:
            raise WatchlistError(f"{where}.interval_seconds must be an integer >= 30")
        unknown = set(spec) - {"enabled", "interval_seconds", "keywords", "bars"}
        if unknown:
            raise WatchlistError(f"{where} has unknown keys {sorted(unknown)}")
        sources[name] = Source(name=name, keywords=_strings(spec.get("keywords"), f"{where}.keywords"),
                               interval_seconds=interval, enabled=bool(spec.get("enabled", True)),
                               bars=_strings(spec.get("bars"), f"{where}.bars"))
    return Watchlist(operators=tuple(operators),
                     context=tuple(normalise(w) for w in _strings(context.get("words"), f"{origin}: context.words")),
                     window=window, sources=sources, hotlists=_hotlists(data.get("hotlists"), origin))


def _hotlists(spec: Any, origin: str) -> HotLists:
    if spec is None:
        return HotLists()
    where = f"{origin}: hotlists"
    if not isinstance(spec, Mapping):
        raise WatchlistError(f"{where} must be a table")
    unknown = set(spec) - {"boards", "interval_seconds", "words"}
    if unknown:
        raise WatchlistError(f"{where} has unknown keys {sorted(unknown)}")
    boards = _strings(spec.get("boards"), f"{where}.boards")
    wrong = [b for b in boards if b not in HOT_BOARDS]
    if wrong:
        raise WatchlistError(f"{where}.boards: unknown boards {wrong} (known: {', '.join(HOT_BOARDS)})")
    interval = spec.get("interval_seconds", 300)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 30:
        raise WatchlistError(f"{where}.interval_seconds must be an integer >= 30")
    return HotLists(boards=boards, interval_seconds=interval,
                    words=tuple(normalise(w) for w in _strings(spec.get("words"), f"{where}.words") if w))


def _resolve(path: str | Path | None) -> Path:
    if path is None or str(path) == "":
        return DEFAULT_PATH
    candidate = Path(path)
    if candidate.exists() or candidate.is_absolute():
        return candidate
    for base in (Path(__file__).resolve().parents[1], DEFAULT_PATH.parent):
        if (base / candidate).exists():
            return base / candidate
    return candidate


def load_watchlist(path: str | Path | None = None) -> Watchlist:
    """Read and validate a watchlist TOML file (default: the one shipped beside this module)."""
    resolved = _resolve(path)
    try:
        data = tomllib.loads(resolved.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WatchlistError(f"watchlist file not found: {resolved}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistError(f"{resolved}: not valid TOML: {exc}") from None
    return build_watchlist(data, str(resolved))
