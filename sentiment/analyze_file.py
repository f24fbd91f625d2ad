"""`yuqing sentiment analyze --input FILE`: the whole analysis of each row of a user's own file, as JSON lines.

Input: a CSV with a `text` column, JSON lines with a `text` field, or plain lines (one post per line); `-` reads
standard input. Output: exactly one JSON object per input row (a CSV record, or a line of the other formats), in
input order. A row that cannot be analysed (no text, bad JSON, no `text` field) gets {"row", "error"} on its line,
so line N of the output is always row N of the input.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO

FORMATS = ("auto", "csv", "jsonl", "lines")
Row = tuple[int, str, str | None, str | None]  # (row number, id, text, error)


def detect(first_line: str, name: str = "") -> str:
    """The format of a file from its name, else from its first line."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    stripped = first_line.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        return "jsonl"
    if "text" in next(csv.reader([stripped]), []):
        return "csv"
    return "lines"


def read_rows(fh: TextIO, fmt: str) -> Iterator[Row]:
    """(row number, id, text or None, error or None) for each row, in order; raises ValueError for a CSV without a
    `text` column (the file, not a row, is wrong)."""
    if fmt == "csv":
        reader = csv.DictReader(fh)
        fields = [f.lstrip("\ufeff") for f in (reader.fieldnames or [])]
        reader.fieldnames = fields
        if "text" not in fields:
            raise ValueError(f"the CSV needs a `text` column, its header is {fields}")
        for n, rec in enumerate(reader, 1):
            text = rec.get("text")
            ident = str(rec.get("id") or "")
            if None in rec:
                yield n, ident, None, f"{len(rec[None])} more fields than the header has"
            elif not (text or "").strip():
                yield n, ident, None, "no text"
            else:
                yield n, ident, text, None
        return
    for n, line in enumerate(fh, 1):
        line = line.rstrip("\r\n")
        if n == 1:
            line = line.lstrip("\ufeff")
        if fmt == "lines":
            yield (n, "", line, None) if line.strip() else (n, "", None, "empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, "", None, f"not JSON: {exc.msg} at column {exc.colno}" if line.strip() else "empty line"
            continue
        if not isinstance(obj, dict):
            yield n, "", None, "not a JSON object"
            continue
        text, ident = obj.get("text"), str(obj.get("id") or "")
        if not isinstance(text, str):
            yield n, ident, None, "no `text` string"
        elif not text.strip():
            yield n, ident, None, "no text"
        else:
            yield n, ident, text, None


def _record(n: int, ident: str, analysis) -> dict:
    out: dict = {"row": n}
    if ident:
        out["id"] = ident
    out.update(label=analysis.label, score=analysis.score, touchpoints=list(analysis.touchpoints),
               operators=list(analysis.operators), province=analysis.province, city=analysis.city,
               risk_flags=list(analysis.risk_flags), keywords=list(analysis.keywords),
               model=analysis.model, model_version=analysis.model_version)
    return out


def analyze_rows(rows: Iterable[Row], analyzer, batch: int = 256) -> Iterator[dict]:
    """One output object per row, in order; rows are analysed in batches, and a batch that fails is retried one
    row at a time so only the row at fault gets an error object."""
    from yuqing.records import Post

    when = datetime.now(UTC)
    pending: list[Row] = []

    def flush() -> Iterator[dict]:
        good = [r for r in pending if r[3] is None]
        posts = [Post(platform="weibo", post_id=str(r[0]), text=r[2] or "", published_at=when) for r in good]
        try:
            results = dict(zip([r[0] for r in good], analyzer.analyze(posts)[0], strict=True))
        except Exception:  # one bad row must not take the others down: retry alone
            results = {}
            for r, post in zip(good, posts, strict=True):
                try:
                    results[r[0]] = analyzer.analyze([post])[0][0]
                except Exception as exc:
                    results[r[0]] = exc
        for n, ident, _, error in pending:
            got = results.get(n)
            if error is not None or isinstance(got, Exception) or got is None:
                obj = {"row": n, **({"id": ident} if ident else {}), "error": error or f"analysis failed: {got}"}
                yield obj
            else:
                yield _record(n, ident, got)
        pending.clear()

    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            yield from flush()
    if pending:
        yield from flush()


def run(path: str, fmt: str, analyzer, out: TextIO, stdin: TextIO) -> int:
    """Analyse the file (or stdin for `-`) and write JSON lines to `out`; returns the number of error rows."""
    fh = stdin if path == "-" else open(path, encoding="utf-8-sig", newline="")
    try:
        if fmt == "auto":
            first = fh.readline()
            fmt = detect(first, "" if path == "-" else path)
            fh = _chain(first, fh)
        errors = 0
        for obj in analyze_rows(read_rows(fh, fmt), analyzer):
            errors += "error" in obj
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
        return errors
    finally:
        if path != "-":
            fh.close()


def _chain(first: str, rest: TextIO) -> TextIO:
    """A text stream of `first` followed by the rest of `rest` (stdin cannot seek back after sniffing)."""
    class Chained(io.TextIOBase):
        def __init__(self) -> None:
            self.buffered = first

        def readline(self, size: int = -1) -> str:
            if self.buffered:
                line, self.buffered = self.buffered, ""
                return line
            return rest.readline()

        def read(self, size: int = -1) -> str:
            head, self.buffered = self.buffered, ""
            return head + rest.read()

        def __iter__(self):
            return self

        def __next__(self) -> str:
            line = self.readline()
            if not line:
                raise StopIteration
            return line

        def readable(self) -> bool:
            return True

    return Chained()
