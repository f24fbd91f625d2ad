"""Records to JSON-ready dicts and back: ISO times, tuples as lists, bytes as base64.

Used by the spool of posts (JSONL segments), the local run log of crawl runs and the Elasticsearch documents.
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a record, a datetime, a tuple, bytes or a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(value, args[0]) if len(args) == 1 else value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is bytes:
        return base64.b64decode(value["$b64"]) if isinstance(value, dict) else bytes(value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, args[0]) for v in value)
        if args:
            return tuple(_decode(v, a) for v, a in zip(value, args, strict=False))
        return tuple(value)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_json(hint, value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a record of type `cls` from `to_json` output; unknown keys are ignored."""
    hints = _hints(cls)
    kwargs = {f.name: _decode(data[f.name], hints[f.name])
              for f in dataclasses.fields(cls) if f.name in data}  # type: ignore[arg-type]
    return cls(**kwargs)
