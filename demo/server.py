"""The demo site: one loopback HTTP server per platform, serving the scenario's posts as they arrive, and one
serving the scenario's hot lists (demo.hotlists: the four boards at their real paths).

Each platform gets its own port so its base URL behaves like the real host (absolute paths
such as /api/... resolve against it). Renderers live in demo.platforms.<platform> with
`handle(path, query, posts, now, **options) -> Response | None`; `query` maps each parameter
to its first value and `posts` are that platform's posts already published at `now`.
Faults (418, 432, 403, 500, slow, truncated, changed layout) are injected at the scenario's rates.
"""

from __future__ import annotations

import importlib
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from demo import hotlists
from demo.model import DemoPost, Response
from demo.scenario import FAULT_KINDS, Faults, Scenario
from yuqing.vocab import PLATFORMS

log = logging.getLogger(__name__)
ROBOTS = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n"
HOT = "hotlist"  # the server of the four hot boards
_REASONS = {418: "I'm a teapot", 432: "", 403: "Forbidden", 500: "Internal Server Error"}


def load_renderers() -> dict[str, Callable[..., Response | None]]:
    """platform -> handle(); a platform whose renderer module is absent is not served."""
    out = {}
    for platform in PLATFORMS:
        try:
            module = importlib.import_module(f"demo.platforms.{platform}")
        except ModuleNotFoundError as exc:
            if exc.name != f"demo.platforms.{platform}":
                raise
            log.warning("demo site: no renderer for %s; not served", platform)
            continue
        out[platform] = module.handle
    return out


class FaultInjector:
    """Decides, per request, whether to misbehave; a URL is faulted at most `max_per_url` times."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._per_url: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def draw(self, url: str) -> str:
        with self._lock:
            if self._per_url[url] >= self.faults.max_per_url:
                return ""
            x = self._rng.random()
            for kind in FAULT_KINDS:
                rate = self.faults.rates.get(kind, 0.0)
                if x < rate:
                    self._per_url[url] += 1
                    self.injected[kind] += 1
                    return kind
                x -= rate
            return ""


def _unsigned(raw_path: str) -> str:
    """The request without per-send signature parameters (a retry is signed afresh but is the same request)."""
    parts = urlsplit(raw_path)
    kept = [pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0] not in ("w_rid", "wts")]
    return parts.path + ("?" + "&".join(kept) if kept else "")


def _layout_changed(resp: Response) -> Response:
    if "json" in resp.content_type:
        return Response(200, b'{"ok":1,"result":{"list":[],"version":"v9"}}', resp.content_type)
    return Response(200, '<!DOCTYPE html><html><head><meta charset="utf-8"><title>新版页面</title></head>'
                         '<body><div id="app-v9"></div></body></html>'.encode(), "text/html; charset=utf-8")


class DemoSite:
    """All platforms of one scenario, started together; `base_urls` feed settings.crawl.*_base_url."""

    def __init__(self, scenario: Scenario, *, start: datetime | None = None,
                 clock: Callable[[], datetime] | None = None, host: str = "127.0.0.1") -> None:
        self.scenario = scenario
        self.clock = clock or (lambda: datetime.now(UTC))
        self.start = start or self.clock()
        self.posts = scenario.placed(self.start)
        self.renderers = load_renderers()
        self.faults = FaultInjector(scenario.faults)
        self.requests: Counter[str] = Counter()
        self.paths: Counter[tuple[str, str]] = Counter()  # (platform, path?query without signature) -> requests
        self.host = host
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    def visible(self, platform: str, now: datetime) -> list[DemoPost]:
        return [p for p in self.posts if p.platform == platform and p.at <= now]

    def respond(self, platform: str, raw_path: str) -> Response:
        """The response to one GET, before faults (the seam tests use without sockets)."""
        parts = urlsplit(raw_path)
        if parts.path == "/robots.txt":
            return Response(200, ROBOTS, "text/plain; charset=utf-8")
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        now = self.clock()
        if platform == HOT:
            resp = hotlists.handle(parts.path, self.scenario.hot, self.scenario.elapsed(self.start, now),
                                   lambda offset: self.scenario.arrival(self.start, offset), now)
            return resp or Response(404, b'{"ok":0,"msg":"not found"}')
        handler = self.renderers.get(platform)
        options: dict[str, Any] = dict(self.scenario.options.get(platform) or {})
        resp = handler(parts.path, query, self.visible(platform, now), now, **options) if handler else None
        return resp or Response(404, b"<html><body>404 Not Found</body></html>", "text/html; charset=utf-8")

    def serve(self, platform: str, raw_path: str) -> Response:
        """respond() with the scenario's faults applied."""
        self.requests[platform] += 1
        unsigned = _unsigned(raw_path)
        self.paths[(platform, unsigned)] += 1
        if urlsplit(raw_path).path == "/robots.txt":
            return self.respond(platform, raw_path)
        kind = self.faults.draw(f"{platform}:{unsigned}")
        if kind in ("http_418", "http_432", "http_403", "http_500"):
            status = int(kind[5:])
            return Response(status, b"" if status == 418 else f"<html><body>{status}</body></html>".encode(),
                            "text/html; charset=utf-8")
        if kind == "slow":
            time.sleep(self.scenario.faults.slow_seconds)
        resp = self.respond(platform, raw_path)
        if kind == "truncated" and resp.status == 200:
            return Response(200, resp.body[: max(len(resp.body) // 2, 1)], resp.content_type, resp.headers)
        if kind == "layout" and resp.status == 200:
            return _layout_changed(resp)
        return resp

    def _handler(self, platform: str) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                try:
                    resp = site.serve(platform, self.path)
                except Exception:
                    log.exception("demo site: %s %s failed", platform, self.path)
                    resp = Response(500, b"internal error", "text/plain")
                self.send_response(resp.status, _REASONS.get(resp.status))
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                for key, value in resp.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(resp.body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("demo %s: " + format, platform, *args)

        return Handler

    def start_servers(self) -> dict[str, str]:
        """Listen on free loopback ports; returns platform -> base URL (the hot lists' are in `board_urls`)."""
        for platform in (*PLATFORMS, HOT):
            server = ThreadingHTTPServer((self.host, 0), self._handler(platform))
            server.daemon_threads = True
            self._servers[platform] = server
            thread = threading.Thread(target=server.serve_forever, name=f"demo-{platform}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.base_urls

    @property
    def base_urls(self) -> dict[str, str]:
        return {p: f"http://{self.host}:{s.server_address[1]}" for p, s in self._servers.items() if p != HOT}

    @property
    def board_urls(self) -> dict[str, str]:
        """Hot board -> base URL (one server answers all four at their real paths)."""
        server = self._servers.get(HOT)
        return {b: f"http://{self.host}:{server.server_address[1]}" for b in hotlists.BOARDS} if server else {}

    def crawl_env(self) -> dict[str, str]:
        """YUQING_CRAWL_*_BASE_URL variables pointing a crawler at this site."""
        return {f"YUQING_CRAWL_{p.upper()}_BASE_URL": url for p, url in self.base_urls.items()}

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> DemoSite:
        self.start_servers()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.server [SCENARIO]`: serve until interrupted, printing the base URLs."""
    import argparse

    from demo import serve_until_interrupted
    from demo.scenario import load_scenario

    parser = argparse.ArgumentParser(description="serve a demo scenario on loopback")
    parser.add_argument("scenario", nargs="?", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with DemoSite(load_scenario(args.scenario)) as site:
        for platform, url in {**site.base_urls, HOT: next(iter(site.board_urls.values()), "")}.items():
            print(f"{platform}: {url}", flush=True)
        return serve_until_interrupted()


if __name__ == "__main__":
    raise SystemExit(main())
